package campaign

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// The oracle's self-test: a check must be able to fail. For each invariant
// a run that keeps every invariant is replayed, then the state after its
// recovery (or the trace the oracle judges) is made wrong in that
// invariant's way, and the invariant must fire — and only the invariants a
// state wrong that way sensibly breaks too.

// SelfTestResult is one wrong state and what the oracle said of it.
type SelfTestResult struct {
	Invariant string `json:"invariant"` // the invariant the wrong state breaks
	Wrong     string `json:"wrong"`     // how the state was made wrong
	Replay    string `json:"replay"`    // the run it was made wrong after
	// Fired lists the invariants that failed on the wrong state; Allowed
	// the ones besides Invariant that may; Unfaulted the ones that failed
	// on the run itself (none, or the self-test proves nothing).
	Fired     []string `json:"fired"`
	Allowed   []string `json:"allowed,omitempty"`
	Unfaulted []string `json:"unfaulted,omitempty"`
	Saw       string   `json:"saw"` // what Invariant's check said
	// OK: Invariant fired, no invariant outside Allowed did, and the run
	// kept every invariant without the wrong state.
	OK bool `json:"ok"`
}

// tamper makes the state after a run wrong in one invariant's way.
type tamper struct {
	invariant, wrong string
	allowed          []string
	// run picks the run it starts from.
	run func(b *bench) (faults.Schedule, error)
	// afterRecovery, if set, changes the chips (or the trial) once the
	// recovery has run, before the checks; writes are all the programs
	// and erases so far (what it writes through rec's engine joins them).
	afterRecovery func(w *worker, t *trial, rec *recovery, writes *[]faults.Op) error
	// beforeLive, if set, changes the chips before the live round.
	beforeLive func(w *worker) error
}

// SelfTest runs the oracle's self-test on a scenario (with the real
// engine): one wrong state per invariant, at least. The error is for a
// self-test that could not run; a check that does not fire is a result
// with OK false.
func SelfTest(ctx context.Context, scenario string, seed uint64) ([]SelfTestResult, error) {
	b, err := loadBench(ctx, scenario, seed, engine.None)
	if err != nil {
		return nil, err
	}
	var out []SelfTestResult
	for _, tp := range tampers() {
		s, err := tp.run(b)
		if err != nil {
			return nil, fmt.Errorf("self-test %s (%s): %w", tp.invariant, tp.wrong, err)
		}
		c := Case{Scenario: b.scenario.Name, Seed: b.seed, Mutant: engine.None, Round: s}
		res := SelfTestResult{Invariant: tp.invariant, Wrong: tp.wrong, Replay: c.String(), Allowed: tp.allowed}
		clean, err := runTampered(ctx, b, c, nil)
		if err != nil {
			return nil, err
		}
		res.Unfaulted = failed(clean)
		vs, err := runTampered(ctx, b, c, &tp)
		if err != nil {
			return nil, fmt.Errorf("self-test %s (%s): %w", tp.invariant, tp.wrong, err)
		}
		res.Fired = failed(vs)
		res.Saw = verdictIn(vs, tp.invariant).Saw
		res.OK = len(res.Unfaulted) == 0 && slices.Contains(res.Fired, tp.invariant)
		for _, inv := range res.Fired {
			if inv != tp.invariant && !slices.Contains(tp.allowed, inv) {
				res.OK = false
			}
		}
		out = append(out, res)
	}
	return out, nil
}

// runTampered replays c on a fresh worker, with tp making the state wrong.
func runTampered(ctx context.Context, b *bench, c Case, tp *tamper) ([]Verdict, error) {
	w, err := newWorker(b)
	if err != nil {
		return nil, err
	}
	w.tamper = tp
	r, err := w.replay(ctx, c)
	if err != nil {
		return nil, err
	}
	return r.verdicts, nil
}

func failed(vs []Verdict) []string {
	var out []string
	for _, v := range vs {
		if !v.OK {
			out = append(out, v.Invariant)
		}
	}
	return out
}

func verdictIn(vs []Verdict, inv string) Verdict {
	for _, v := range vs {
		if v.Invariant == inv {
			return v
		}
	}
	return Verdict{Invariant: inv, OK: true, Skipped: true, Saw: "no verdict"}
}

// The runs the wrong states start from.

// cleanRound: the round without faults (it commits).
func cleanRound(*bench) (faults.Schedule, error) { return faults.Schedule{}, nil }

// cutMidWrites: a power cut at a chunk-data program halfway through the
// round's writes (an interrupted round, purged at the restart).
func cutMidWrites(b *bench) (faults.Schedule, error) {
	var data []int
	for i, st := range b.steps {
		if st.op.Role == faults.Backup && st.op.Kind == faults.Program && b.inDataArea(st.op.Off) {
			data = append(data, i)
		}
	}
	if len(data) == 0 {
		return faults.Schedule{}, errors.New("the round writes no chunk data")
	}
	return faults.CutAt(int64(data[len(data)/2])), nil
}

// probeFails: the primary fails a probe during the writes (an anomaly far
// below the threshold: interrupted, purged, no failover).
func probeFails(b *bench) (faults.Schedule, error) {
	p, ok := b.writeProbe()
	if !ok {
		return faults.Schedule{}, errors.New("no probe of the primary during the round's writes")
	}
	return faults.Schedule{Rules: []faults.Rule{{When: faults.At{Index: int64(p)}, Do: faults.Fail{Kind: faults.FailMedia}}}}, nil
}

// primaryDies: from the first probe during the writes on, the primary
// answers nothing (a failover is due).
func primaryDies(b *bench) (faults.Schedule, error) {
	p, ok := b.writeProbe()
	if !ok {
		return faults.Schedule{}, errors.New("no probe of the primary during the round's writes")
	}
	return faults.Schedule{Rules: []faults.Rule{{When: faults.And{Preds: []faults.Pred{faults.OnRole{Role: faults.Primary}, faults.OnKind{Kind: faults.Read}, faults.After{Index: int64(p)}}},
		Do: faults.Fail{Kind: faults.FailTimeout}}}}, nil
}

// writeProbe returns the first probe of the primary's image header after
// the round's first backup write.
func (b *bench) writeProbe() (int, bool) {
	for i := b.split; i < len(b.steps); i++ {
		if op := b.steps[i].op; op.Role == faults.Primary && op.Kind == faults.Read && op.Off == b.layout.ImageOff && b.writesBefore[i] > 0 {
			return i, true
		}
	}
	return 0, false
}

// inDataArea reports whether chip offset off lies in the backup store's
// data area (as the base's store places it).
func (b *bench) inDataArea(off int64) bool {
	return off >= b.dataOff && off < b.dataOff+b.dataSize
}

func tampers() []tamper {
	return append([]tamper{
		{invariant: Atomic, wrong: "a bit of a committed chunk flipped", allowed: []string{Live}, run: cleanRound,
			afterRecovery: func(w *worker, t *trial, rec *recovery, writes *[]faults.Op) error {
				off, err := w.committedWrittenBlock(*writes)
				if err != nil {
					return err
				}
				return w.flipByte(1, off)
			}},
		{invariant: Durable, wrong: "the round's commit record destroyed", allowed: []string{Atomic, Purged, Reinit, Live}, run: cleanRound,
			afterRecovery: func(w *worker, t *trial, rec *recovery, writes *[]faults.Op) error {
				b, err := w.decodeQuiet(1)
				if err != nil {
					return err
				}
				for i := len(b.Journal) - 1; i >= 0; i-- {
					if r := b.Journal[i]; r.Kind == reference.KindCommit {
						return w.flipByte(1, r.Off+30)
					}
				}
				return errors.New("no commit record")
			}},
		{invariant: Purged, wrong: "a block of the interrupted round left unerased", allowed: []string{Live, BoundedCost}, run: cutMidWrites,
			afterRecovery: func(w *worker, t *trial, rec *recovery, writes *[]faults.Op) error {
				b, err := w.decodeQuiet(1)
				if err != nil {
					return err
				}
				refs := viewOf(b, nil).refs()
				for _, op := range *writes {
					if op.Role == faults.Backup && op.Kind == faults.Program && w.bench.inDataArea(op.Off) && !refs[op.Off/w.bench.eraseSize*w.bench.eraseSize] {
						w.chips[1].Poke(op.Off, []byte{0x5a, 0xa5})
						return nil
					}
				}
				return errors.New("no block of the interrupted round")
			}},
		{invariant: Reinit, wrong: "the interrupted round's configuration staged again after the purge", run: cutMidWrites,
			afterRecovery: func(w *worker, t *trial, rec *recovery, writes *[]faults.Op) error {
				return rec.engine.StageConfig(w.bench.roundGen.config)
			}},
		{invariant: Failover, wrong: "a role record making chip 1 active without a due wait", allowed: []string{Live}, run: probeFails,
			afterRecovery: func(w *worker, t *trial, rec *recovery, writes *[]faults.Op) error {
				return w.appendRole(1, reference.Role{Epoch: 1, Active: 1})
			}},
		{invariant: Failover, wrong: "the failover's restore of chip 1's information undone", allowed: []string{Live}, run: primaryDies,
			afterRecovery: func(w *worker, t *trial, rec *recovery, writes *[]faults.Op) error {
				return w.scribbleRecord(1, info.Power)
			}},
		{invariant: PrimaryIntact, wrong: "a byte of the primary's image programmed", run: cleanRound,
			afterRecovery: func(w *worker, t *trial, rec *recovery, writes *[]faults.Op) error {
				l := w.bench.layout
				_, err := w.chips[0].WriteAt([]byte{0}, l.ImageOff+l.ImageSize-1)
				return err
			}},
		{invariant: Live, wrong: "the primary's image header scribbled before the live round", run: cleanRound,
			beforeLive: func(w *worker) error {
				w.chips[0].Poke(w.bench.layout.ImageOff, make([]byte, info.ImageHeaderSize))
				return nil
			}},
		{invariant: Live, wrong: "the interrupted round's failure counted down in Status.Counters.Errors", run: probeFails,
			afterRecovery: func(w *worker, t *trial, rec *recovery, writes *[]faults.Op) error {
				for i := range t.roundCounted {
					if c := &t.roundCounted[i]; c.round != nil && c.delta.Errors == 1 {
						c.delta.Errors = -1 // as an engine counting e.counters.Errors-- would
						return nil
					}
				}
				return errors.New("no round in the run counted one failure")
			}},
		{invariant: BoundedWear, wrong: "a free data block erased three more times", allowed: []string{BoundedCost}, run: cleanRound,
			afterRecovery: func(w *worker, t *trial, rec *recovery, writes *[]faults.Op) error {
				off := w.bench.dataOff + w.bench.dataSize - w.bench.eraseSize
				for range 3 {
					if err := rec.engine.Chip(1).Erase(off, w.bench.eraseSize); err != nil {
						return err
					}
				}
				return nil
			}},
		{invariant: InterruptBound, wrong: "chunk data programmed after the anomaly", allowed: []string{BoundedCost}, run: probeFails,
			afterRecovery: func(w *worker, t *trial, rec *recovery, writes *[]faults.Op) error {
				r, ok := firstAnomaly(t.answers, -1, w.bench.threshold())
				if !ok {
					return errors.New("no anomaly in the run")
				}
				extra := slices.Clone(t.roundWrites)
				for i := range w.bench.interruptBound + 1 {
					extra = append(extra, faults.Op{Index: r.Op.Index + 1 + int64(i), Role: faults.Backup, Kind: faults.Program,
						Off: w.bench.dataOff + int64(i)*256, Len: 256})
				}
				t.roundWrites = extra
				return nil
			}},
	}, append(costTampers(), policyTampers()...)...)
}

// committedWrittenBlock returns a data block of chip 1 that the committed
// generation references and that writes wrote (so the oracle reads it
// again rather than taking the base's contents).
func (w *worker) committedWrittenBlock(writes []faults.Op) (int64, error) {
	b, err := w.decodeQuiet(1)
	if err != nil {
		return 0, err
	}
	refs := viewOf(b, nil).refs()
	for _, op := range writes {
		if op.Role == faults.Backup && op.Kind == faults.Program {
			if blk := op.Off / w.bench.eraseSize * w.bench.eraseSize; refs[blk] {
				return op.Off, nil
			}
		}
	}
	return 0, errors.New("the round wrote no committed chunk")
}

// decodeQuiet decodes chip's store with the reference decoder, leaving no
// trace (see quiet).
func (w *worker) decodeQuiet(chip int) (*reference.Backup, error) {
	var (
		b   *reference.Backup
		err error
	)
	w.quiet(func() {
		l := w.bench.layout
		b, err = decodeChip(w.chips[chip], w.chips[1-chip], chip, l.StoreOff, l.StoreSize)
	})
	return b, err
}

// flipByte inverts the byte at off of chip.
func (w *worker) flipByte(chip int, off int64) error {
	var b [1]byte
	var err error
	w.quiet(func() { _, err = w.chips[chip].ReadAt(b[:], off) })
	if err != nil {
		return err
	}
	w.chips[chip].Poke(off, []byte{^b[0]})
	return nil
}

// appendRole programs role as a record after the last record of chip's
// store, at the next slot of its block.
func (w *worker) appendRole(chip int, role reference.Role) error {
	b, err := w.decodeQuiet(chip)
	if err != nil {
		return err
	}
	last := b.Journal[len(b.Journal)-1]
	rec := reference.RoleRecord(last.Seq+1, role)
	off := last.Off + last.Size
	if e := b.Superblock.EraseSize; off/e != (off+int64(len(rec))-1)/e {
		return errors.New("no room for a record in the journal's last block")
	}
	_, err = w.chips[chip].WriteAt(rec, off)
	return err
}

// scribbleRecord overwrites the payload of type t's record in chip's
// information region with zeros.
func (w *worker) scribbleRecord(chip int, t info.Type) error {
	var err error
	w.quiet(func() {
		var r *info.Region
		if r, err = info.OpenRegion(w.chips[chip], w.bench.layout.InfoOff, w.bench.layout.InfoSize); err != nil {
			return
		}
		off, _ := r.Extent(t)
		w.chips[chip].Poke(off+info.RecordHeaderSize, make([]byte, 16))
	})
	return err
}
