package campaign

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// lifeList returns the verdicts set, in the lifecycle's invariant order.
func lifeList(vs verdicts) []Verdict {
	var out []Verdict
	for _, inv := range LifecycleInvariants() {
		if v, ok := vs[inv]; ok {
			out = append(out, v)
		}
	}
	return out
}

// lifePoint is one power cut of the life: a clean cut or a torn variant
// at recorded operation op.
type lifePoint struct {
	op int
	p  point
}

// lifePoints lists the cuts of the life: at every operation of every step
// a clean cut and, for programs and erases, the torn variants the
// standard scenario tears with (cutVariants).
func (l *lifecycle) lifePoints() []lifePoint {
	var out []lifePoint
	for i, lop := range l.ops {
		for _, p := range cutVariants(i, lop.op) {
			out = append(out, lifePoint{op: i, p: p})
		}
	}
	return out
}

// lifeWorker is one goroutine's pair of chips to branch into.
type lifeWorker struct {
	chips [2]*sim.Flash
	clock *harnessClock
}

func (l *lifecycle) newWorker() (*lifeWorker, error) {
	chips, c, err := l.scenario.openChips(l.part, l.seed)
	if err != nil {
		return nil, err
	}
	return &lifeWorker{chips: chips, clock: newHarnessClock(c)}, nil
}

// runPoint branches from the recorded life's snapshot before the point's
// operation, applies the cut (tearing the operation for a torn variant)
// and judges what follows.
func (l *lifecycle) runPoint(ctx context.Context, w *lifeWorker, lp lifePoint) (result, error) {
	lop := l.ops[lp.op]
	w.chips[0].Restore(lop.snapshots[0])
	w.chips[1].Restore(lop.snapshots[1])
	w.clock.set(lop.time)
	s := lp.p.schedule(l.seed)
	if lp.p.kind == pointTorn {
		if err := tearOp(w.chips, w.clock, s, lop.op, lop.op.Index); err != nil {
			return result{}, err
		}
		w.clock.set(lop.time)
	}
	f := l.facts[lop.step]
	wrote := lp.p.kind == pointTorn && lop.op.Kind != faults.Read
	for _, o := range l.ops[f.first:lp.op] {
		wrote = wrote || o.op.Kind != faults.Read
	}
	j := &lifeJudge{sc: l.scenario, seed: l.seed, mutant: l.mutant, layout: l.layout, chips: w.chips, clock: w.clock, facts: f, cut: int64(lp.op), wrote: wrote}
	c := Case{Scenario: l.scenario.Name, Seed: l.seed, Mutant: l.mutant, Round: s}
	return result{testCase: c, points: 1, verdicts: j.judge(ctx)}, nil
}

// tearOp replays operation op on the chips through an injector whose
// schedule s tears it, the injector counting operations from index.
func tearOp(chips [2]*sim.Flash, clock *harnessClock, s faults.Schedule, op faults.Op, index int64) error {
	in := faults.NewInjector(s, faults.Options{SplitPages: true, Clock: clock, StartIndex: index})
	dev := in.Wrap(chips[int(op.Role)-1], op.Role)
	var err error
	switch op.Kind {
	case faults.Program:
		_, err = dev.WriteAt(op.Data, op.Off)
	case faults.Erase:
		err = dev.Erase(op.Off, op.Len)
	default:
		_, err = dev.ReadAt(make([]byte, op.Len), op.Off)
	}
	if !errors.Is(err, hal.ErrPowerLoss) && in.Err() == nil {
		return fmt.Errorf("tear %v: want a power loss, got %v", op, err)
	}
	return in.Err()
}

// runLifecycle runs the lifecycle campaign: every cut of the recorded
// life (of o's shard), judged on o.Workers pairs of chips.
func runLifecycle(ctx context.Context, o Options, sc Scenario) (*Report, error) {
	if o.Mode != Exhaustive {
		return nil, fmt.Errorf("%w: scenario %s runs in exhaustive mode only", ErrOptions, sc.Name)
	}
	start := time.Now()
	l, err := recordLifecycle(ctx, sc, o.Seed, o.Mutant)
	if err != nil {
		return nil, err
	}
	rep := &Report{Mode: o.Mode.String(), Scenario: o.Scenario, Seed: o.Seed, Mutant: o.Mutant.String(), Workers: o.Workers,
		Shards: []string{o.Shard.String()}, Checks: map[string]int{}, Violations: []Violation{}, RoundOps: len(l.ops), Depth: 1}
	var jobs []lifePoint
	for n, lp := range l.lifePoints() {
		if o.Shard.Has(n) {
			jobs = append(jobs, lp)
		}
	}
	tally := newTally(rep, o.KeepViolations, o.StopAfter)
	wall0 := time.Now()
	cpu0 := cpuTime()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, o.Workers)
	for wi := range o.Workers {
		wg.Go(func() {
			w, err := l.newWorker()
			if err != nil {
				errs[wi] = err
				return
			}
			for {
				k := int(next.Add(1) - 1)
				if k >= len(jobs) || ctx.Err() != nil || tally.stop() {
					return
				}
				r, err := l.runPoint(ctx, w, jobs[k])
				if err != nil {
					errs[wi] = err
					return
				}
				out := jobResult{results: []result{r}, kind: stepNames[l.ops[jobs[k].op].step] + "-" + jobs[k].p.kind.String()}
				if jobs[k].p.kind == pointTorn {
					out.torn = 1
				}
				done := tally.add(k, out)
				if o.Progress != nil {
					o.Progress(done, len(jobs))
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	tally.finish()
	rep.setTimes(start, wall0, cpu0)
	return rep, nil
}

// replayLifecycle runs a case of the lifecycle from the start without
// branching: the life under the case's round schedule up to the power
// loss it causes, then the oracle, as the campaign judges that cut.
func replayLifecycle(ctx context.Context, c Case, sc Scenario) (*Story, error) {
	var ops []faults.Op
	r, err := newLifeRun(sc, c.Seed, c.Mutant, c.Round, func(op faults.Op) { op.Data = nil; ops = append(ops, op) })
	if err != nil {
		return nil, err
	}
	st := &Story{Replay: c.String()}
	err = r.run(ctx)
	if err == nil {
		return nil, fmt.Errorf("%w: the schedule %v cut no operation of the life (%d operations)", errLife, c.Round, len(ops))
	}
	if !errors.Is(err, hal.ErrPowerLoss) {
		return nil, err
	}
	fired := r.in.Fired()
	if len(fired) == 0 {
		return nil, fmt.Errorf("%w: power lost without a rule firing", errLife)
	}
	cut := fired[0].Op
	f := r.facts[r.step]
	wrote := false
	for _, o := range ops {
		if o.Index >= f.first && (o.Index < cut.Index || o.Index == cut.Index && fired[0].Action.String() != "cut") && o.Kind != faults.Read {
			wrote = true
		}
	}
	st.RoundOps = len(ops)
	st.Round = engine.RoundReport{Outcome: "power cut in step " + stepNames[r.step]}
	st.Rules = []RuleStory{{Phase: "round", Rule: c.Round.String(), Matched: 1, Fired: []string{fmt.Sprintf("%v in step %s", fired[0], stepNames[r.step])}, FiredN: 1}}
	r.clock.set(r.clock.Now())
	j := &lifeJudge{sc: sc, seed: c.Seed, mutant: c.Mutant, layout: r.layout, chips: r.chips, clock: r.clock, facts: f, cut: cut.Index, wrote: wrote}
	st.Verdicts = j.judge(ctx)
	return st, nil
}
