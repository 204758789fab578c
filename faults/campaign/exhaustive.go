package campaign

import (
	"context"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sim"
)

// point is one exhaustive fault point: a cut or torn operation at round
// operation opIndex, which is run by branching from the recorded round's
// snapshot there, or a fault run as a case (round and before: every other
// kind, see points.go).
type point struct {
	opIndex  int
	kind     pointKind
	tornMode faults.TornMode
	unstable bool
	// round and before are the schedules of a point run as a case, and
	// recovery that of the recovery after its round (fadeopen.go).
	round, before, recovery faults.Schedule
}

// cutVariants lists the power-loss points at one operation: a clean cut,
// and for programs and erases their torn variants.
func cutVariants(i int, op faults.Op) []point {
	ps := []point{{opIndex: i, kind: pointCut}}
	switch op.Kind {
	case faults.Program:
		ps = append(ps, point{opIndex: i, kind: pointTorn, tornMode: faults.TornBits}, point{opIndex: i, kind: pointTorn, tornMode: faults.TornAllButOne},
			point{opIndex: i, kind: pointTorn, tornMode: faults.TornBits, unstable: true})
	case faults.Erase:
		ps = append(ps, point{opIndex: i, kind: pointTorn, tornMode: faults.TornBits}, point{opIndex: i, kind: pointTorn, tornMode: faults.TornAllButOne},
			point{opIndex: i, kind: pointTorn, tornMode: faults.TornRandom, unstable: true})
	}
	return ps
}

// schedule is the round schedule of p.
func (p point) schedule(seed uint64) faults.Schedule {
	switch p.kind {
	case pointCut:
		return faults.CutAt(int64(p.opIndex))
	case pointTorn:
		return faults.TornAt(int64(p.opIndex), p.tornMode, p.unstable, seed)
	}
	return p.round
}

// branched reports whether p is run by branching from the recorded
// round's snapshots (a power loss there) rather than as a case.
func (p point) branched() bool { return p.kind == pointCut || p.kind == pointTorn }

// runPoint branches from the recorded round's snapshot at the point's
// operation, applies the fault and judges the recovery; at depth 2 it also
// branches at every operation of that recovery. Points of the other kinds
// (the engine keeps running) are run as cases (runCase: from the recorded
// first half when they strike after it, else from the base).
func (w *worker) runPoint(ctx context.Context, p point, depth int) (jobResult, error) {
	b := w.bench
	c := Case{Scenario: b.scenario.Name, Seed: b.seed, Mutant: b.mutant, Before: p.before, Round: p.schedule(b.seed), Recovery: p.recovery}
	if !p.branched() {
		r, err := w.runCase(ctx, c)
		return jobResult{results: []result{r}}, err
	}
	var out jobResult
	if p.kind == pointTorn {
		out.torn++
	}
	w.noteCase(c)
	t, err := w.branch(p)
	if err != nil {
		return jobResult{}, err
	}
	t.testCase = c
	var rsteps []step
	if depth >= 2 {
		t.recordRecovery = func(op faults.Op) {
			op.Data = append([]byte(nil), op.Data...)
			rsteps = append(rsteps, step{op: op, snapshots: [2]*sim.Snapshot{w.chips[0].Snapshot(), w.chips[1].Snapshot()}, time: w.clock.Now()})
		}
	}
	base := *t
	base.writes = append([]faults.Op(nil), t.writes...)
	out.results = append(out.results, result{testCase: c, points: 1, verdicts: w.judge(ctx, t)})
	for j, s := range rsteps {
		var before []faults.Op
		for _, rs := range rsteps[:j] {
			if rs.op.Kind != faults.Read {
				before = append(before, rs.op)
			}
		}
		for _, q := range cutVariants(j, s.op) {
			c2 := c
			c2.Recovery = q.schedule(b.seed)
			w.noteCase(c2)
			t2, err := w.branchRecovery(&base, before, s, q)
			if err != nil {
				return jobResult{}, err
			}
			t2.testCase = c2
			out.results = append(out.results, result{testCase: c2, points: 1, verdicts: w.judge(ctx, t2)})
			out.recoveryPoints++
			if q.kind == pointTorn {
				out.torn++
			}
		}
	}
	return out, nil
}

// branch sets the worker's chips to the recorded round's state just before
// operation p.opIndex and applies p's fault to it.
func (w *worker) branch(p point) (*trial, error) {
	b := w.bench
	s := b.steps[p.opIndex]
	w.chips[0].Restore(s.snapshots[0])
	w.chips[1].Restore(s.snapshots[1])
	w.clock.set(s.time)
	w.harness = w.harness[:0]
	t := &trial{preEvents: nil, answers: b.answers[:p.opIndex:p.opIndex], cuts: 1}
	k := b.writesBefore[p.opIndex]
	t.writes = b.writes[:k:k] // shared: an append copies
	if p.kind == pointTorn {
		if err := w.tear(p.schedule(b.seed), s.op, int64(p.opIndex)); err != nil {
			return nil, err
		}
		if s.op.Kind != faults.Read {
			t.writes = append(t.writes, s.op)
		}
		w.clock.set(s.time)
	}
	t.roundWrites = t.writes
	w.stable = !p.unstable
	if !p.unstable {
		t.firstPre = w.view(1, t.writes)
	}
	return t, nil
}

// branchRecovery sets the chips to the recovery's state before operation s
// and applies q's fault.
func (w *worker) branchRecovery(base *trial, before []faults.Op, s step, q point) (*trial, error) {
	w.chips[0].Restore(s.snapshots[0])
	w.chips[1].Restore(s.snapshots[1])
	w.clock.set(s.time)
	w.harness = w.harness[:0]
	t := &trial{preEvents: base.preEvents, firstPre: base.firstPre, answers: base.answers, roundWrites: base.roundWrites, cuts: base.cuts + 1}
	t.writes = append(t.writes, base.writes...)
	t.writes = append(t.writes, before...)
	if q.kind == pointTorn {
		if err := w.tear(q.schedule(w.bench.seed), s.op, s.op.Index); err != nil {
			return nil, err
		}
		if s.op.Kind != faults.Read {
			t.writes = append(t.writes, s.op)
		}
		w.clock.set(s.time)
	}
	return t, nil
}

// tear replays operation op through an injector whose schedule tears it.
func (w *worker) tear(s faults.Schedule, op faults.Op, index int64) error {
	return tearOp(w.chips, w.clock, s, op, index)
}
