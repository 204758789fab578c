package campaign

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// ErrNotReal is wrapped when a case cannot be run in another world (a
// real chip): its faults need the simulator's access to the cells, or
// strike where the world cannot.
var ErrNotReal = errors.New("case cannot run on a real chip")

// WorldPlan is what another world (the QEMU guest, on the kernel's MTD
// driver) needs to run a case's round as the simulator does: the
// scenario's chips at the base, the engine's options, the virtual time at
// the base, and the simulator's round up to the cut, to compare with.
type WorldPlan struct {
	Case Case
	// Part, ChipSize and RegionSize are the simulated chips and the
	// primary's information region.
	Part                 string
	ChipSize, RegionSize int64
	// Types, Interval, Threshold and ProbeEvery are the engine options
	// the campaign opens with.
	Types                           []info.Type
	Interval, Threshold, ProbeEvery time.Duration
	// BaseTime is the virtual time at the base; Base the chips' bytes
	// there (ChipSize each).
	BaseTime time.Time
	Base     [2][]byte
	// Ops are the simulator's round operations (with data) up to and
	// including the one the schedule cuts, and Times the virtual time
	// just before each.
	Ops   []faults.Op
	Times []time.Time
	// CutAt is the index of the operation the schedule cuts.
	CutAt int64
	// FactoryBad are the chips' factory bad blocks (Scenario.FactoryBad):
	// the world's chips must have the same; Base holds them as erased.
	FactoryBad [2][]int64
	// Crossed lists the backup's factory bad blocks the round's
	// allocation stepped over before the cut: each lies between two data
	// blocks the round wrote one after the other (a program or erase of
	// the later one issued before the cut). Empty: the cut came before
	// the round reached a bad block, or the chips have none.
	Crossed []int64
}

// PlanWorld returns the plan of case c. Only a round schedule of power
// cuts can be run on a real chip, with no damage before the round and no
// faults in the recovery; the cut must strike an operation of the round.
func PlanWorld(ctx context.Context, c Case) (*WorldPlan, error) {
	b, cut, err := worldBench(ctx, c)
	if err != nil {
		return nil, err
	}
	sc := b.scenario
	p := &WorldPlan{Case: c, Part: b.part.Name, RegionSize: sc.RegionSize,
		Types: sc.Types, Interval: sc.Interval, Threshold: sc.Threshold, ProbeEvery: probeEvery,
		BaseTime: b.baseTime, CutAt: int64(cut), FactoryBad: sc.FactoryBad}
	chips, _, err := sc.openChips(b.part, b.seed)
	if err != nil {
		return nil, err
	}
	for i, ch := range chips {
		ch.Restore(b.base[i])
		buf, err := chipImage(ch)
		if err != nil {
			return nil, err
		}
		p.Base[i] = buf
	}
	p.ChipSize = int64(len(p.Base[0]))
	for _, st := range b.steps[:cut+1] {
		p.Ops = append(p.Ops, st.op)
		p.Times = append(p.Times, st.time)
	}
	p.Crossed = crossedBad(p.Ops[:cut], sc.FactoryBad[1], b.eraseSize, b.dataOff, b.dataSize)
	return p, nil
}

// crossedBad returns the blocks of bad (the backup's bad blocks) that ops
// step over in the data area [dataOff, dataOff+dataSize): each lies
// strictly between two data blocks written one after the other.
func crossedBad(ops []faults.Op, bad []int64, eraseSize, dataOff, dataSize int64) []int64 {
	var out []int64
	seen := map[int64]bool{}
	prev := int64(-1)
	for _, op := range ops {
		if op.Role != faults.Backup || op.Kind == faults.Read || op.Off < dataOff || op.Off >= dataOff+dataSize {
			continue
		}
		blk := op.Off / eraseSize
		if prev >= 0 && blk != prev {
			lo, hi := min(prev, blk), max(prev, blk)
			for _, b := range bad {
				if b > lo && b < hi && !seen[b] {
					seen[b] = true
					out = append(out, b)
				}
			}
		}
		prev = blk
	}
	return out
}

// worldBench loads c's bench and finds the round operation c's schedule
// cuts.
func worldBench(ctx context.Context, c Case) (*bench, int, error) {
	if len(c.Before.Rules) > 0 {
		return nil, 0, fmt.Errorf("%w: damage before the round (%v)", ErrNotReal, c.Before)
	}
	if len(c.Recovery.Rules) > 0 {
		return nil, 0, fmt.Errorf("%w: faults in the recovery (%v): only the round is replayed", ErrNotReal, c.Recovery)
	}
	if err := c.Round.Validate(); err != nil {
		return nil, 0, err
	}
	for i, r := range c.Round.Rules {
		if _, ok := r.Do.(faults.Cut); !ok {
			return nil, 0, fmt.Errorf("%w: rule %d: %v (only power cuts between operations: a torn operation or damaged cells need the simulator's access to the cells)", ErrNotReal, i+1, r.Do)
		}
	}
	sc, err := LookupScenario(c.Scenario)
	if err != nil {
		return nil, 0, err
	}
	if sc.LongRun {
		return nil, 0, fmt.Errorf("%w: scenario %s (a long history of rounds; replay a standard or small case)", ErrNotReal, c.Scenario)
	}
	b, err := loadBench(ctx, c.Scenario, c.Seed, c.Mutant)
	if err != nil {
		return nil, 0, err
	}
	// Every predicate is a function of the operation alone, and a cut
	// changes nothing before it: the first operation of the recorded
	// round a rule matches is the one cut.
	for i, st := range b.steps {
		for _, r := range c.Round.Rules {
			if r.When.Match(st.op) {
				return b, i, nil
			}
		}
	}
	return nil, 0, fmt.Errorf("%w: the schedule cuts none of the round's %d operations", ErrNotReal, len(b.steps))
}

// WorldRun is what another world did with a planned case.
type WorldRun struct {
	// CutAt is the index of the operation before which the world lost
	// power; RoundWrites are the programs and erases its round issued
	// before that (as counted by its injector).
	CutAt       int64
	RoundWrites []faults.Op
	// AfterCut are the chips' bytes right after the power loss, and
	// Recovered after the world's recovery at the next boot (ChipSize
	// each).
	AfterCut, Recovered [2][]byte
	// RecoveryWrites are the programs and erases of that recovery
	// (indexes from 0), RecoveryEvents its engine's events, and
	// RecoveryEnd the virtual time after it.
	RecoveryWrites []faults.Op
	RecoveryEvents []engine.Event
	RecoveryEnd    time.Time
}

// BackupSummary is the backup as the reference decoder reads it after a
// recovery: the committed generation, every committed chunk's digest, the
// chunks that fail theirs, whether a round is still pending, and a digest
// of each whole chip.
type BackupSummary struct {
	Generation  uint64    `json:"generation"`
	Chunks      []string  `json:"chunks"` // "TYPE[i] block B sha256"
	ChunkFaults int       `json:"chunk_faults"`
	Pending     bool      `json:"pending"`
	Chips       [2]string `json:"chip_sha256"`
	Err         string    `json:"error,omitempty"`
}

// String is a short account.
func (s BackupSummary) String() string {
	if s.Err != "" {
		return "undecodable: " + s.Err
	}
	return fmt.Sprintf("generation %d, %d chunks (%d failing), pending %v, chips %.12s…/%.12s…", s.Generation, len(s.Chunks), s.ChunkFaults, s.Pending, s.Chips[0], s.Chips[1])
}

// WorldVerdict compares the simulator's and the world's outcome of a case.
type WorldVerdict struct {
	Sim, World             []Verdict
	SimBackup, WorldBackup BackupSummary
	// HostWrites counts what the oracle's engine wrote when it opened the
	// world's recovered chips (0 once the world's recovery is complete).
	HostWrites int
	// Differences lists every way the worlds differ (none: the same).
	Differences []string
}

// JudgeWorld judges case c twice with the oracle: as the simulator runs
// it (a cut at the planned operation, the simulator's recovery, then the
// engine opened afresh for the live round: a second boot), and as
// the world ran it (the chips it left after the cut, its recovery's
// result, writes and events; the oracle opens its engine on the recovered
// chips for the live round). The world's round must have cut the same
// operation, and its chips after the cut must equal the simulator's there
// (else that is a difference); the operations' answers are the
// simulator's (the caller checks the world's operations and clock were
// the same).
func JudgeWorld(ctx context.Context, c Case, run WorldRun) (*WorldVerdict, error) {
	b, cut, err := worldBench(ctx, c)
	if err != nil {
		return nil, err
	}
	out := &WorldVerdict{}
	if run.CutAt != int64(cut) {
		out.Differences = append(out.Differences, fmt.Sprintf("the world lost power before operation %d, the simulator before %d", run.CutAt, cut))
		return out, nil
	}
	ws, err := newWorker(b)
	if err != nil {
		return nil, err
	}
	ws.noteCase(c)
	t, err := ws.branch(point{opIndex: cut, kind: pointCut})
	if err != nil {
		return nil, err
	}
	t.testCase, t.secondBoot = c, true
	t.observe = func(w *worker) { out.SimBackup = w.summary() }
	out.Sim = ws.judge(ctx, t)

	ww, err := newWorker(b)
	if err != nil {
		return nil, err
	}
	ww.noteCase(c)
	s := b.steps[cut]
	for i := range ww.chips {
		if len(run.AfterCut[i]) != int(ww.chips[i].Geometry().Size) || len(run.Recovered[i]) != len(run.AfterCut[i]) {
			return nil, fmt.Errorf("world images of chip %d: %d and %d bytes, want %d", i, len(run.AfterCut[i]), len(run.Recovered[i]), ww.chips[i].Geometry().Size)
		}
		ww.chips[i].Restore(s.snapshots[i])
		for _, blk := range ww.differingBlocks(i, run.AfterCut[i]) {
			out.Differences = append(out.Differences, fmt.Sprintf("after the cut, chip %d block %d (%#x) differs from the simulator's", i, blk, blk*b.eraseSize))
		}
		ww.load(i, run.AfterCut[i])
	}
	ww.clock.set(s.time)
	ww.harness = ww.harness[:0]
	ww.stable = true
	tw := &trial{testCase: c, answers: b.answers[:cut:cut], cuts: 1}
	tw.writes = append([]faults.Op(nil), run.RoundWrites...)
	tw.roundWrites = tw.writes
	tw.firstPre = ww.view(1, tw.writes)
	x := &externalRecovery{images: run.Recovered, writes: run.RecoveryWrites, events: run.RecoveryEvents, end: run.RecoveryEnd}
	tw.external = x
	tw.observe = func(w *worker) { out.WorldBackup = w.summary() }
	out.World = ww.judge(ctx, tw)
	out.HostWrites = x.hostWrites
	out.Differences = append(out.Differences, x.untraced...)
	if out.HostWrites != 0 {
		out.Differences = append(out.Differences, fmt.Sprintf("the oracle's engine wrote %d times opening the world's recovered chips: its recovery was not complete", out.HostWrites))
	}
	if a, b := fmt.Sprint(out.SimBackup), fmt.Sprint(out.WorldBackup); a != b || fmt.Sprint(out.SimBackup.Chunks) != fmt.Sprint(out.WorldBackup.Chunks) {
		out.Differences = append(out.Differences, fmt.Sprintf("recovered backup: simulator %s; world %s", out.SimBackup, out.WorldBackup))
	}
	out.Differences = append(out.Differences, compareVerdicts(out.Sim, out.World)...)
	return out, nil
}

// compareVerdicts lists the invariants whose verdicts differ (ok, failed
// or skipped).
func compareVerdicts(sim, world []Verdict) []string {
	state := func(v Verdict) string {
		switch {
		case v.Skipped:
			return "skipped"
		case v.OK:
			return "ok"
		}
		return "FAIL"
	}
	byName := map[string]Verdict{}
	for _, v := range world {
		byName[v.Invariant] = v
	}
	var out []string
	seen := map[string]bool{}
	for _, v := range sim {
		seen[v.Invariant] = true
		w, ok := byName[v.Invariant]
		if !ok {
			out = append(out, fmt.Sprintf("%s: simulator %s (%s), world has no verdict", v.Invariant, state(v), v.Saw))
			continue
		}
		if state(v) != state(w) {
			out = append(out, fmt.Sprintf("%s: simulator %s (%s), world %s (%s)", v.Invariant, state(v), v.Saw, state(w), w.Saw))
		}
	}
	for _, w := range world {
		if !seen[w.Invariant] {
			out = append(out, fmt.Sprintf("%s: world %s (%s), simulator has no verdict", w.Invariant, state(w), w.Saw))
		}
	}
	return out
}

// externalRecovery is a recovery another world ran (trial.external).
type externalRecovery struct {
	images [2][]byte
	writes []faults.Op
	events []engine.Event
	end    time.Time
	// writesAfter is the length of the write list once the world's
	// recovery writes joined it; hostWrites what the oracle's engine
	// wrote on top; untraced the blocks the world's recovery changed
	// without a traced write.
	writesAfter, hostWrites int
	untraced                []string
}

// applyExternal puts the world's recovered chips on the worker's chips,
// adds its writes to writes and sets the clock to its end. Every block
// that changes must be one its traced writes touched.
func (w *worker) applyExternal(x *externalRecovery, writes *[]faults.Op) error {
	e := w.bench.eraseSize
	for i := range w.chips {
		role := faults.Primary
		if i == 1 {
			role = faults.Backup
		}
		for _, blk := range w.differingBlocks(i, x.images[i]) {
			lo, hi := blk*e, (blk+1)*e
			traced := false
			for _, op := range x.writes {
				if op.Role == role && op.Kind != faults.Read && op.Off < hi && op.Off+op.Len > lo {
					traced = true
					break
				}
			}
			if !traced {
				x.untraced = append(x.untraced, fmt.Sprintf("the world's recovery changed chip %d block %d (%#x) without a traced write", i, blk, lo))
			}
		}
		w.load(i, x.images[i])
	}
	*writes = append(*writes, x.writes...)
	x.writesAfter = len(*writes)
	if !x.end.IsZero() {
		w.clock.set(x.end)
	}
	return nil
}

// differingBlocks lists the erase blocks of chip i whose bytes differ from
// img.
func (w *worker) differingBlocks(i int, img []byte) []int64 {
	e := w.bench.eraseSize
	buf := make([]byte, e)
	var out []int64
	w.quiet(func() {
		for off := int64(0); off+e <= int64(len(img)); off += e {
			if err := readBlock(w.chips[i], buf, off); err != nil || !bytes.Equal(buf, img[off:off+e]) {
				out = append(out, off/e)
			}
		}
	})
	return out
}

// readBlock reads the erase block at off of ch into buf (one erase
// block): a bad block (a NAND part's) reads as erased, as a world's image
// of the chip holds it (its bytes cannot be read or written there).
func readBlock(ch *sim.Flash, buf []byte, off int64) error {
	bad, err := ch.IsBad(off)
	if err != nil {
		return err
	}
	if bad {
		for k := range buf {
			buf[k] = 0xFF
		}
		return nil
	}
	_, err = ch.ReadAt(buf, off)
	return err
}

// chipImage returns the bytes of the whole chip ch, its bad blocks as
// erased (readBlock).
func chipImage(ch *sim.Flash) ([]byte, error) {
	g := ch.Geometry()
	img := make([]byte, g.Size)
	for off := int64(0); off < g.Size; off += g.EraseSize {
		if err := readBlock(ch, img[off:off+g.EraseSize], off); err != nil {
			return nil, err
		}
	}
	return img, nil
}

// load makes chip i hold img: each differing block is loaded as erased
// and programmed (sim.Flash.LoadBlock: no time charged, no programming
// rules; on NAND its pages after the last programmed one stay
// programmable, as on the world's chip).
func (w *worker) load(i int, img []byte) {
	e := w.bench.eraseSize
	for _, blk := range w.differingBlocks(i, img) {
		w.chips[i].LoadBlock(blk*e, img[blk*e:(blk+1)*e])
	}
}

// summary reads the backup as the reference decoder does, and digests
// both chips.
func (w *worker) summary() BackupSummary {
	var s BackupSummary
	w.quiet(func() {
		for i, ch := range w.chips {
			h := sha256.New()
			buf := make([]byte, ch.Geometry().EraseSize)
			for off := int64(0); off < ch.Geometry().Size; off += int64(len(buf)) {
				if err := readBlock(ch, buf, off); err != nil {
					s.Err = err.Error()
					return
				}
				h.Write(buf)
			}
			s.Chips[i] = hex.EncodeToString(h.Sum(nil))
		}
		l := w.bench.layout
		bk, err := decodeChip(w.chips[1], w.chips[0], 1, l.StoreOff, l.StoreSize)
		if err != nil {
			s.Err = err.Error()
			return
		}
		s.Generation = bk.Committed.Generation
		s.Pending = bk.Pending != nil
		for _, ts := range bk.Committed.Types {
			for k, ch := range ts.Chunks {
				s.Chunks = append(s.Chunks, fmt.Sprintf("%v[%d] block %d %s", info.Type(ts.Type), k, ch.Block, ch.Digest))
			}
		}
		faults, err := bk.VerifyChunks(w.chips[1])
		if err != nil {
			s.Err = err.Error()
			return
		}
		s.ChunkFaults = len(faults)
	})
	return s
}

// WorldPoint is a power cut of the exhaustive campaign chosen for a
// differential run: its case and what the cut operation is.
type WorldPoint struct {
	Case Case
	// Kind is erase, chunk-first or chunk-last (the first or last program
	// of a data block), journal (the first program of a journal record) or
	// commit (of the round's last record, its commit).
	Kind string
	Op   faults.Op
}

// WorldPoints lists the cut points of scenario's recorded round (engine
// variant m) that a differential run covers: every backup erase, the first
// and the last program of each data block the round writes, the first
// program of each journal record and of the commit. A record is a run of
// contiguous journal programs.
func WorldPoints(ctx context.Context, scenario string, seed uint64, m engine.Mutant) ([]WorldPoint, error) {
	b, err := loadBench(ctx, scenario, seed, m)
	if err != nil {
		return nil, err
	}
	if b.scenario.LongRun {
		return nil, fmt.Errorf("%w: scenario %s", ErrNotReal, scenario)
	}
	point := func(i int, kind string) WorldPoint {
		return WorldPoint{Case: Case{Scenario: b.scenario.Name, Seed: b.seed, Mutant: b.mutant, Round: faults.CutAt(int64(i))}, Kind: kind, Op: b.steps[i].op}
	}
	records, err := b.roundRecords()
	if err != nil {
		return nil, err
	}
	var ps []WorldPoint
	inData := func(op faults.Op) bool { return op.Off >= b.dataOff && op.Off < b.dataOff+b.dataSize }
	inJournal := func(op faults.Op) bool { return op.Off >= b.journalOff && op.Off < b.journalOff+b.journalSize }
	for i, st := range b.steps {
		op := st.op
		if op.Role != faults.Backup || op.Kind == faults.Read {
			continue
		}
		switch {
		case op.Kind == faults.Erase:
			ps = append(ps, point(i, "erase"))
		case inData(op):
			blk := op.Off / b.eraseSize
			prev, next := -1, -1
			for j := i - 1; j >= 0; j-- {
				if o := b.steps[j].op; o.Role == faults.Backup && o.Kind == faults.Program {
					prev = j
					break
				}
			}
			for j := i + 1; j < len(b.steps); j++ {
				if o := b.steps[j].op; o.Role == faults.Backup && o.Kind == faults.Program {
					next = j
					break
				}
			}
			if prev < 0 || b.steps[prev].op.Off/b.eraseSize != blk || !inData(b.steps[prev].op) {
				ps = append(ps, point(i, "chunk-first"))
			} else if next < 0 || b.steps[next].op.Off/b.eraseSize != blk || !inData(b.steps[next].op) {
				ps = append(ps, point(i, "chunk-last"))
			}
		case inJournal(op):
			for _, r := range records {
				if r.Off >= op.Off && r.Off < op.Off+op.Len {
					kind := "journal"
					if r.Kind == reference.KindCommit {
						kind = "commit"
					}
					ps = append(ps, point(i, kind))
					break
				}
			}
		}
	}
	return ps, nil
}

// SamplePoints picks n of ps (all if n is 0 or more than there are): each
// kind in turn, evenly spread within a kind, the commit always; returned
// in round order.
func SamplePoints(ps []WorldPoint, n int) []WorldPoint {
	if n <= 0 || n >= len(ps) {
		return ps
	}
	byKind := map[string][]int{}
	var kinds []string
	for i, p := range ps {
		if _, ok := byKind[p.Kind]; !ok {
			kinds = append(kinds, p.Kind)
		}
		byKind[p.Kind] = append(byKind[p.Kind], i)
	}
	// How many of each kind: round-robin, the commit first, until n are
	// taken.
	for i, k := range kinds {
		if k == "commit" {
			kinds = append(append([]string{k}, kinds[:i]...), kinds[i+1:]...)
			break
		}
	}
	take := map[string]int{}
	for left := n; left > 0; {
		moved := false
		for _, k := range kinds {
			if left > 0 && take[k] < len(byKind[k]) {
				take[k]++
				left--
				moved = true
			}
		}
		if !moved {
			break
		}
	}
	chosen := map[int]bool{}
	for _, k := range kinds {
		idx, m := byKind[k], take[k]
		for j := range m {
			// Evenly spread, first and last included.
			pos := 0
			if m > 1 {
				pos = j * (len(idx) - 1) / (m - 1)
			}
			chosen[idx[pos]] = true
		}
	}
	var out []WorldPoint
	for i, p := range ps {
		if chosen[i] {
			out = append(out, p)
		}
	}
	return out
}

// roundRecords returns the journal records the recorded round wrote: the
// journal after the round (its last snapshot with its last operation
// applied) as the reference decoder reads it, less the base's.
func (b *bench) roundRecords() ([]reference.Record, error) {
	chips, _, err := b.scenario.openChips(b.part, b.seed)
	if err != nil {
		return nil, err
	}
	last := b.steps[len(b.steps)-1]
	chips[0].Restore(last.snapshots[0])
	chips[1].Restore(last.snapshots[1])
	if op := last.op; op.Role == faults.Backup {
		switch op.Kind {
		case faults.Program:
			_, err = chips[1].WriteAt(op.Data, op.Off)
		case faults.Erase:
			err = chips[1].Erase(op.Off, op.Len)
		}
		if err != nil {
			return nil, err
		}
	}
	after, err := decodeChip(chips[1], chips[0], 1, b.layout.StoreOff, b.layout.StoreSize)
	if err != nil {
		return nil, err
	}
	old := map[int64]bool{}
	for _, r := range b.baseBackup.Journal {
		old[r.Off] = true
	}
	var out []reference.Record
	for _, r := range after.Journal {
		if !old[r.Off] {
			out = append(out, r)
		}
	}
	return out, nil
}
