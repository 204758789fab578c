package campaign

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sim"
)

// interruptBound is the bound of the interrupt-bound invariant
// (docs/DESIGN.md, Invariants: "once the primary is anomalous during the
// write phase, the round stops within a stated bound of further backup
// writes"): the backup programs and erases a round may issue once the
// primary is anomalous, as the engine's probe interval allows.
//
// The engine probes the primary before a chunk write whenever probeEvery
// has passed since the last probe (engine.Options.ProbeEvery). Once the
// primary is anomalous, the next probe sees it, so the round issues at most
// the writes that fit in one probe interval — each takes at least one page
// program's time, and an erase takes longer than the interval — then those
// of the chunk it started within the interval (an erase and a program per
// page of a chunk), and the operation under way when the anomaly began:
//
//	⌈probeEvery / shortest program⌉ + (chunk pages + 1) + 1
//
// The shortest program is one byte: the part's command overhead, page
// program time and one byte on the bus (typical timings, which the
// campaign's chips charge). For the campaigns' MX66L1G45G (0.96 µs +
// 256 µs + 40 ns), 4 KiB chunks of 16 pages and a 20 ms interval:
// 78 + 17 + 1 = 96.
//
// A chunk that does not read back is erased and programmed again within
// the same chunk write, before the engine probes again (store.Round.Write:
// the chunk started within the interval is finished). Chunks do not read
// back on a sound backup only because of a fault of the backup: a program
// left weak, an erase that failed silently. checkInterruptBound does not
// count such a re-program (the erase and the chunk's programs after it),
// one per faulted write, on top of this bound (reprograms).
func interruptBound(part sim.Part, probeEvery time.Duration, chunkSize int64) int {
	tm := part.Typical
	shortest := tm.CommandOverhead + tm.PageProgram + time.Duration(int64(time.Second)/tm.ReadBytesPerSec)
	programs := int((probeEvery + shortest - 1) / shortest)
	pages := int((chunkSize + part.PageSize - 1) / part.PageSize)
	return programs + pages + 1 + 1
}

// checkInterruptBound: once the primary is anomalous during the round's
// writes, the round stops within bound further backup writes.
//
// The write phase starts at the round's first backup program or erase.
// The primary is anomalous from the first request after that it did not
// answer correctly in time (answers: failed, slower than threshold, or
// returning bytes a flip or scribble changed); for a corrupt answer, from
// the operation before which the corruption was made, if that came later
// than the start of the writes, since the primary was already anomalous
// when the engine next asked. Counted: the backup programs and erases
// (writes, the round's) from then until that request, and the programs
// into the backup store's data area [dataOff, dataOff+dataSize) after it
// (chunk data: the purge, the failover and the restore never program
// there). Not counted: the re-programs of chunks the faults (faulted: the
// round's writes the schedule failed or left weak) spoiled (reprograms).
//
// If the primary was already anomalous before the writes began — a wait
// (primaryWaits) that started before them and either exceeded the
// threshold (a failover was due: the writes that follow are the
// failover's role record and the restore of the information region, which
// may read the old primary's records again) or is still unanswered at
// that request, which asks it again — the engine saw the anomaly at the
// wait's first request, before it wrote anything: the backup writes that
// follow are not the round's, so only the chunk-data programs after that
// earlier request count.
func checkInterruptBound(vs verdicts, answers []faults.Answer, writes, faulted []faults.Op, dataOff, dataSize, eraseSize int64, threshold time.Duration, bound int) {
	start := int64(-1)
	for _, op := range writes {
		if op.Role == faults.Backup && op.Kind != faults.Read {
			start = op.Index
			break
		}
	}
	if start < 0 {
		vs.ok(InterruptBound, "the round wrote nothing to the backup")
		return
	}
	r, ok := firstAnomaly(answers, start, threshold)
	if !ok {
		vs.ok(InterruptBound, "the primary answered every request during the round's writes (from #%d) in time", start)
		return
	}
	onset := r.Op.Index
	if r.Corrupted {
		onset = max(r.CorruptedAt, start)
	}
	what := fmt.Sprintf("the primary was anomalous from #%d (request #%d %s)", onset, r.Op.Index, whyWrong(r))
	if seen, ok := seenBefore(answers, r, start, threshold); ok {
		what = fmt.Sprintf("the primary was anomalous from #%d, before the writes began at #%d (request #%d %s; the first not answered correctly in time after them: #%d)",
			anomalyOnset(seen), start, seen.Op.Index, whyWrong(seen), r.Op.Index)
		r, onset = seen, seen.Op.Index
	}
	again := reprograms(writes, faulted, eraseSize)
	before, after, excused := 0, 0, 0
	for _, op := range writes {
		switch {
		case op.Role != faults.Backup || op.Kind == faults.Read:
		case again[op.Index] && op.Index >= onset:
			excused++
		case op.Index >= onset && op.Index < r.Op.Index:
			before++
		case op.Index > r.Op.Index && op.Kind == faults.Program && op.Off < dataOff+dataSize && op.Off+op.Len > dataOff:
			after++
		}
	}
	if excused > 0 {
		what += fmt.Sprintf("; %d write(s) re-programming chunks the faults left weak or unerased not counted", excused)
	}
	if before+after > bound {
		vs.fail(InterruptBound, "%s; the round then issued %d backup writes before that request and %d chunk-data programs after it: %d, bound %d",
			what, before, after, before+after, bound)
		return
	}
	vs.ok(InterruptBound, "%s; the round issued %d backup write(s) after it (bound %d)", what, before+after, bound)
}

// reprograms returns the indexes of the backup writes that program a
// chunk again because a fault spoiled it (store.Round.Write): for each
// faulted write (a program of the backup the faults made fail or left
// weak, an erase of it they made fail silently), if the next backup erase
// or program into another block comes after an erase of the faulted
// write's own block, that erase and the programs into the block that
// follow it until the next write elsewhere or erase of it (at least one:
// an erase followed by none, as a purge's, re-programs nothing). A faulted
// write excuses one re-program; one the faults did not explain (no
// faulted write in the block since its last erase) counts, and so does a
// block erased again only after the round wrote elsewhere (a journal
// block reused later, not a chunk write's retry).
func reprograms(writes, faulted []faults.Op, eraseSize int64) map[int64]bool {
	if len(faulted) == 0 || eraseSize <= 0 {
		return nil
	}
	var out map[int64]bool
	for _, f := range faulted {
		if f.Role != faults.Backup {
			continue
		}
		blk := f.Off / eraseSize * eraseSize
		in := func(op faults.Op) bool { return op.Off >= blk && op.Off+op.Len <= blk+eraseSize }
		// The writes after f, until the retry's erase of its block.
		i, _ := slices.BinarySearchFunc(writes, f.Index+1, func(op faults.Op, n int64) int { return cmp.Compare(op.Index, n) })
		for ; i < len(writes); i++ {
			op := writes[i]
			if op.Role != faults.Backup || op.Kind == faults.Read {
				continue
			}
			if !in(op) {
				i = len(writes)
				break
			}
			if op.Kind == faults.Erase {
				break
			}
		}
		if i >= len(writes) || out[writes[i].Index] {
			continue
		}
		erase := writes[i].Index
		var again []int64
		for i++; i < len(writes); i++ {
			op := writes[i]
			if op.Role != faults.Backup || op.Kind == faults.Read {
				continue
			}
			if !in(op) || op.Kind != faults.Program {
				break
			}
			again = append(again, op.Index)
		}
		if len(again) == 0 {
			continue // an erase alone (a purge's) programs nothing again
		}
		if out == nil {
			out = map[int64]bool{}
		}
		out[erase] = true
		for _, k := range again {
			out[k] = true
		}
	}
	return out
}

// seenBefore returns the first request of a wait of the primary
// (primaryWaits) that began before the writes (#start) and made the
// primary anomalous for the rest of the round: the wait exceeded the
// threshold (a failover was due), or no correct answer ended it before r,
// which reads its bytes again.
func seenBefore(answers []faults.Answer, r faults.Answer, start int64, threshold time.Duration) (faults.Answer, bool) {
	for _, w := range primaryWaits(answers, threshold) {
		if w.from.Op.Index >= start || w.from.Op.Index >= r.Op.Index {
			break
		}
		if w.length > threshold || (r.Op.Index <= w.to.Op.Index && sameRequest(w.from.Op, r.Op)) {
			return w.from, true
		}
	}
	return faults.Answer{}, false
}

// anomalyOnset is the operation the primary was anomalous from for a
// request a it did not answer correctly in time: the corruption's, for a
// corrupt answer.
func anomalyOnset(a faults.Answer) int64 {
	if a.Corrupted {
		return a.CorruptedAt
	}
	return a.Op.Index
}
