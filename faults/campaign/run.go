package campaign

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// Options configure a campaign.
type Options struct {
	Mode     string // "exhaustive" or "random"
	Scenario string // default "standard"
	Seed     uint64 // the scenario's generator seed and the random schedules' seed (default 1)
	Mutant   string // engine variant, default "none"
	// Depth 2 (exhaustive) also cuts at every operation of the recovery
	// after each cut of the round.
	Depth int
	Count int // random mode: schedules to run
	Shard Shard
	// Workers run points side by side, each on its own pair of chips
	// (default GOMAXPROCS).
	Workers int
	// LiveEvery checks invariant 7 (a full round after recovery) at every
	// Nth point only (0 or 1: at every point).
	LiveEvery int
	// KeepViolations bounds the violations listed in the report (all are
	// counted); 0 means 100.
	KeepViolations int
	// StopAfter ends the campaign early once this many violations were
	// found (0: run every point).
	StopAfter int
	// Progress, if set, is called after each point with the points done
	// and the total.
	Progress func(done, total int)
}

func (o *Options) fill() error {
	if o.Mode == "" {
		o.Mode = "exhaustive"
	}
	if o.Mode != "exhaustive" && o.Mode != "random" {
		return fmt.Errorf("unknown mode %q (want exhaustive or random)", o.Mode)
	}
	if o.Scenario == "" {
		o.Scenario = "standard"
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Mutant == "" {
		o.Mutant = "none"
	}
	if o.Depth == 0 {
		o.Depth = 1
	}
	if o.Depth < 1 || o.Depth > 2 {
		return fmt.Errorf("depth %d: want 1 or 2", o.Depth)
	}
	if o.Mode == "random" && o.Count <= 0 {
		o.Count = 100
	}
	if o.Shard.Count == 0 {
		o.Shard = Shard{0, 1}
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.KeepViolations <= 0 {
		o.KeepViolations = 100
	}
	return nil
}

// benches caches scenario setups (the real engine's first sync) and
// recorded rounds per process.
var benches struct {
	sync.Mutex
	base     map[string]*bench
	recorded map[string]*bench
}

func loadBench(ctx context.Context, scenario string, seed uint64, mutant string) (*bench, error) {
	sc, err := LookupScenario(scenario)
	if err != nil {
		return nil, err
	}
	m, err := engine.ParseMutant(mutant)
	if err != nil {
		return nil, err
	}
	benches.Lock()
	defer benches.Unlock()
	if benches.base == nil {
		benches.base, benches.recorded = map[string]*bench{}, map[string]*bench{}
	}
	key := fmt.Sprintf("%s/%d", scenario, seed)
	if b, ok := benches.recorded[key+"/"+mutant]; ok {
		return b, nil
	}
	base, ok := benches.base[key]
	if !ok {
		if base, err = setup(ctx, sc, seed); err != nil {
			return nil, err
		}
		benches.base[key] = base
	}
	b, err := base.withMutant(ctx, m)
	if err != nil {
		return nil, err
	}
	benches.recorded[key+"/"+mutant] = b
	return b, nil
}

// point is one exhaustive fault point: a cut or torn operation at round
// operation i, or an anomaly of the primary there.
type point struct {
	opIndex  int
	kind     pointKind
	tornMode faults.TornMode
	unstable bool
}

type pointKind uint8

const (
	pointCut pointKind = iota
	pointTorn
	pointAnomaly // the primary fails one read: an anomaly below the threshold
)

// variants lists the points at one operation: a clean cut, and for
// programs and erases their torn variants; for the primary's reads also a
// failed read (an anomaly whose wait-response stays below the threshold).
func variants(i int, op faults.Op) []point {
	ps := []point{{opIndex: i, kind: pointCut}}
	switch op.Kind {
	case faults.Program:
		ps = append(ps, point{i, pointTorn, faults.TornBits, false}, point{i, pointTorn, faults.TornAllButOne, false},
			point{i, pointTorn, faults.TornBits, true})
	case faults.Erase:
		ps = append(ps, point{i, pointTorn, faults.TornBits, false}, point{i, pointTorn, faults.TornAllButOne, false},
			point{i, pointTorn, faults.TornRandom, true})
	case faults.Read:
		if op.Role == faults.Primary {
			ps = append(ps, point{opIndex: i, kind: pointAnomaly})
		}
	}
	return ps
}

func (p point) schedule(seed uint64) faults.Schedule {
	switch p.kind {
	case pointTorn:
		return faults.TornAt(int64(p.opIndex), p.tornMode, p.unstable, seed)
	case pointAnomaly:
		return faults.Schedule{Rules: []faults.Rule{{When: faults.At{Index: int64(p.opIndex)}, Do: faults.Fail{Kind: faults.FailMedia}}}}
	}
	return faults.CutAt(int64(p.opIndex))
}

// Run runs a campaign and returns its report. The error is for a campaign
// that could not run (bad options, a setup failure); violations are in the
// report.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.fill(); err != nil {
		return nil, err
	}
	start := time.Now()
	b, err := loadBench(ctx, o.Scenario, o.Seed, o.Mutant)
	if err != nil {
		return nil, err
	}
	rep := &Report{Mode: o.Mode, Scenario: o.Scenario, Seed: o.Seed, Mutant: o.Mutant, Workers: o.Workers,
		Shards: []string{o.Shard.String()}, RoundOps: len(b.steps), Checks: map[string]int{}, Violations: []Violation{}}
	if o.Mode == "exhaustive" {
		rep.Depth = o.Depth
	} else {
		rep.Count = o.Count
	}

	// The jobs of this shard.
	type job struct {
		point    point
		testCase Case // random mode
		index    int
	}
	var jobs []job
	if o.Mode == "exhaustive" {
		n := 0
		for i, s := range b.steps {
			for _, p := range variants(i, s.op) {
				if o.Shard.Has(n) {
					jobs = append(jobs, job{point: p, index: n})
				}
				n++
			}
		}
	} else {
		for n := 0; n < o.Count; n++ {
			if o.Shard.Has(n) {
				jobs = append(jobs, job{testCase: randomCase(b, o.Seed, n), index: n})
			}
		}
	}

	cpu0, wall0 := cpuTime(), time.Now()
	stop := atomic.Bool{}
	var workers []*worker
	var (
		mu     sync.Mutex
		next   atomic.Int64
		done   atomic.Int64
		wg     sync.WaitGroup
		runErr error
	)
	record := func(res []result, torn, recov int) {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range res {
			rep.Schedules++
			rep.FaultPoints += r.points
			for _, v := range r.verdicts {
				if v.OK {
					if !isSkip(v) {
						rep.Checks[v.Invariant]++
					}
					continue
				}
				rep.Checks[v.Invariant]++
				rep.ViolationsTotal++
				if o.StopAfter > 0 && rep.ViolationsTotal >= o.StopAfter {
					stop.Store(true)
				}
				if len(rep.Violations) < o.KeepViolations {
					rep.Violations = append(rep.Violations, Violation{Replay: r.testCase.String(), Invariant: v.Invariant, Detail: v.Saw})
				}
			}
		}
		rep.TornVariants += torn
		rep.RecoveryPoints += recov
	}
	for wi := 0; wi < o.Workers; wi++ {
		w, err := newWorker(b)
		if err != nil {
			return nil, err
		}
		w.memoLive = true
		workers = append(workers, w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && !stop.Load() {
				k := int(next.Add(1) - 1)
				if k >= len(jobs) {
					return
				}
				j := jobs[k]
				w.liveDue = o.LiveEvery <= 1 || j.index%o.LiveEvery == 0
				var (
					res         []result
					torn, recov int
					err         error
				)
				if o.Mode == "exhaustive" {
					res, torn, recov, err = w.runPoint(ctx, j.point, o.Depth)
				} else {
					var r result
					r, err = w.runCase(ctx, j.testCase)
					res = []result{r}
					for _, ru := range j.testCase.Round.Rules {
						if _, ok := ru.Do.(faults.Torn); ok {
							torn++
						}
					}
				}
				if err != nil {
					mu.Lock()
					if runErr == nil {
						runErr = err
					}
					mu.Unlock()
					return
				}
				record(res, torn, recov)
				d := int(done.Add(1))
				if o.Progress != nil {
					o.Progress(d, len(jobs))
				}
			}
		}()
	}
	wg.Wait()
	for _, w := range workers {
		rep.LiveRounds += w.liveRounds
	}
	if runErr != nil {
		return nil, runErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sort.SliceStable(rep.Violations, func(i, j int) bool { return rep.Violations[i].Replay < rep.Violations[j].Replay })
	// The rate is over the points only (not the one-time setup and
	// recording, reported in SetupSeconds).
	rep.SetupSeconds = wall0.Sub(start).Seconds()
	rep.WallSeconds = time.Since(wall0).Seconds()
	if rep.WallSeconds > 0 {
		rep.PointsPerSecond = float64(rep.FaultPoints) / rep.WallSeconds
	}
	if c := (cpuTime() - cpu0).Seconds(); c > 0 {
		rep.CPUSeconds = c
		rep.PointsPerCPUSecond = float64(rep.FaultPoints) / c
	}
	return rep, nil
}

func isSkip(v Verdict) bool { return len(v.Saw) >= 12 && v.Saw[:12] == "not checked:" }

// result is one judged schedule.
type result struct {
	testCase Case
	points   int
	verdicts []Verdict
}

// runPoint branches from the recorded round's snapshot at the point's
// operation, applies the fault and judges the recovery; at depth 2 it also
// branches at every operation of that recovery. Anomalies (the engine
// keeps running) are run from the base instead.
func (w *worker) runPoint(ctx context.Context, p point, depth int) (res []result, torn, recov int, err error) {
	b := w.bench
	c := Case{Scenario: b.scenario.Name, Seed: b.seed, Mutant: b.mutant.String(), Round: p.schedule(b.seed)}
	if p.kind == pointAnomaly {
		// The engine keeps running: from the recorded first half if the
		// anomaly strikes after it (see runCase), else from the base.
		r, err := w.runCase(ctx, c)
		return []result{r}, 0, 0, err
	}
	if p.kind == pointTorn {
		torn++
	}
	t, err := w.branch(p)
	if err != nil {
		return nil, 0, 0, err
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
	res = append(res, result{testCase: c, points: 1, verdicts: w.judge(ctx, t)})
	for j, s := range rsteps {
		var before []faults.Op
		for _, rs := range rsteps[:j] {
			if rs.op.Kind != faults.Read {
				before = append(before, rs.op)
			}
		}
		for _, q := range variants(j, s.op) {
			if q.kind == pointAnomaly {
				continue
			}
			c2 := c
			c2.Recovery = q.schedule(b.seed)
			t2, err := w.branchRecovery(&base, before, s, q)
			if err != nil {
				return nil, 0, 0, err
			}
			t2.testCase = c2
			res = append(res, result{testCase: c2, points: 1, verdicts: w.judge(ctx, t2)})
			recov++
			if q.kind == pointTorn {
				torn++
			}
		}
	}
	return res, torn, recov, nil
}

// branch sets the worker's chips to the recorded round's state just before
// operation p.i and applies p's fault to it.
func (w *worker) branch(p point) (*trial, error) {
	b := w.bench
	s := b.steps[p.opIndex]
	w.chips[0].Restore(s.snapshots[0])
	w.chips[1].Restore(s.snapshots[1])
	w.clock.set(s.time)
	t := &trial{preEvents: nil}
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
	t := &trial{preEvents: base.preEvents, firstPre: base.firstPre}
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
	in := faults.NewInjector(s, faults.Options{SplitPages: true, BlockEraseSize: w.bench.part.BlockEraseSize, Clock: w.clock, StartIndex: index})
	dev := in.Wrap(w.chips[int(op.Role)-1], op.Role)
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
