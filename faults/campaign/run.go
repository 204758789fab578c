package campaign

import (
	"context"
	"time"

	"github.com/cmcsync/cmcsync/faults"
)

// Run runs a campaign and returns its report. The error is for a campaign
// that could not run (bad options, wrapping [ErrOptions]; a setup
// failure); violations are in the report.
func Run(ctx context.Context, o Options) (*Report, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if sc, _ := LookupScenario(o.Scenario); sc.Lifecycle {
		return runLifecycle(ctx, o, sc)
	}
	start := time.Now()
	bs, err := campaignBenches(ctx, o)
	if err != nil {
		return nil, err
	}
	rep := &Report{Mode: o.Mode.String(), Scenario: o.Scenario, Seed: o.Seed, Mutant: o.Mutant.String(), Workers: o.Workers,
		Shards: []string{o.Shard.String()}, Checks: map[string]int{}, Violations: []Violation{}}
	for _, b := range bs {
		rep.RoundOps += len(b.steps)
	}
	if o.Mode == Exhaustive {
		rep.Depth = o.Depth
	} else {
		rep.Count = o.Count
	}
	pl := newPlan(bs, o)
	workers := make([]workerSet, o.Workers)

	cpu0, wall0 := cpuTime(), time.Now()
	tally := newTally(rep, o.KeepViolations, o.StopAfter)
	chunk := chunkFor(pl.jobs())
	err = runPool(ctx, len(workers), pl.jobs(), chunk, func(wi, k int) error {
		if k%chunk == 0 {
			workers[wi].startChunk()
		}
		j := pl.job(k)
		w, err := workers[wi].get(j.bench)
		if err != nil {
			return err
		}
		out, err := w.runJob(ctx, j, o)
		if err != nil {
			return err
		}
		done := tally.add(k, out)
		if o.Progress != nil {
			o.Progress(done, pl.jobs())
		}
		return nil
	}, tally.stop)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	tally.finish()
	// The rate is over the points only (not the one-time setup and
	// recording, reported in SetupSeconds).
	rep.setTimes(start, wall0, cpu0)
	return rep, nil
}

// setTimes sets rep's timings of a run that began at start, began its
// points at wall0 with cpu0 of CPU time spent, and ends now: the rates
// are over the points only.
func (rep *Report) setTimes(start, wall0 time.Time, cpu0 time.Duration) {
	rep.SetupSeconds = wall0.Sub(start).Seconds()
	rep.WallSeconds = time.Since(wall0).Seconds()
	if rep.WallSeconds > 0 {
		rep.PointsPerSecond = float64(rep.FaultPoints) / rep.WallSeconds
	}
	if c := (cpuTime() - cpu0).Seconds(); c > 0 {
		rep.CPUSeconds = c
		rep.PointsPerCPUSecond = float64(rep.FaultPoints) / c
	}
}

// campaignBenches returns the benches a campaign runs on: its scenario's,
// or, for the long run, one per round it samples.
func campaignBenches(ctx context.Context, o Options) ([]*bench, error) {
	sc, err := LookupScenario(o.Scenario)
	if err != nil {
		return nil, err
	}
	if sc.LongRun && sc.Round == 0 {
		return longRunBenches(ctx, sc, o.Seed, o.Mutant)
	}
	b, err := loadBench(ctx, o.Scenario, o.Seed, o.Mutant)
	if err != nil {
		return nil, err
	}
	return []*bench{b}, nil
}

// workerSet is one goroutine's workers, one per bench it met.
type workerSet map[*bench]*worker

func (ws *workerSet) get(b *bench) (*worker, error) {
	if *ws == nil {
		*ws = workerSet{}
	}
	if w, ok := (*ws)[b]; ok {
		return w, nil
	}
	w, err := newWorker(b)
	if err != nil {
		return nil, err
	}
	w.memoLive = true
	(*ws)[b] = w
	return w, nil
}

// startChunk forgets the live verdicts memoised by the set's workers: a
// chunk of jobs (see runPool) starts with none, so which live rounds
// really run (Report.LiveRounds) depends on the jobs alone, not on the
// number of workers, and the memo stays bounded by a chunk's jobs.
func (ws workerSet) startChunk() {
	for _, w := range ws {
		clear(w.liveVerdicts)
	}
}

// jobChunk is how many consecutive jobs a worker takes at a time, at
// most (see chunkFor).
const jobChunk = 256

// chunkFor returns the chunk size of a campaign of jobs jobs: a quarter of
// them, at least 16 and at most jobChunk, so that a small campaign still
// spreads over the workers. It depends on the jobs alone, never on the
// number of workers.
func chunkFor(jobs int) int { return min(max(jobs/4, 16), jobChunk) }

// job is one unit of a campaign's work: an exhaustive point or a random
// case on a bench, with its index among all the campaign's (for shards
// and Options.LiveEvery).
type job struct {
	bench    *bench
	point    point
	testCase Case // random mode
	index    int
}

// plan names the jobs of o's shard on the benches, in index order: the
// points of each bench in turn (exhaustive), or the random cases, drawn on
// the benches in turn. A random case is drawn when its job runs, so that
// the plan of a million schedules costs no memory.
type plan struct {
	benches []*bench
	o       Options
	points  []job // exhaustive mode
}

func newPlan(bs []*bench, o Options) *plan {
	pl := &plan{benches: bs, o: o}
	if o.Mode != Exhaustive {
		return pl
	}
	n := 0
	for i, b := range bs {
		ps := b.points()
		if b.scenario.LongRun {
			ps = b.longRunPoints(i == 0)
		}
		for _, p := range ps {
			if o.Shard.Has(n) {
				pl.points = append(pl.points, job{bench: b, point: p, index: n})
			}
			n++
		}
	}
	return pl
}

// jobs returns how many jobs the shard has.
func (pl *plan) jobs() int {
	if pl.o.Mode == Exhaustive {
		return len(pl.points)
	}
	s := pl.o.Shard
	if s.Count <= 1 {
		return pl.o.Count
	}
	return max(0, (pl.o.Count-s.Index+s.Count-1)/s.Count)
}

// job returns the shard's k-th job (0 <= k < jobs()).
func (pl *plan) job(k int) job {
	if pl.o.Mode == Exhaustive {
		return pl.points[k]
	}
	n := k
	if s := pl.o.Shard; s.Count > 1 {
		n = s.Index + k*s.Count
	}
	b := pl.benches[n%len(pl.benches)]
	return job{bench: b, testCase: randomCase(b, pl.o.Seed, n), index: n}
}

// runJob runs and judges one job on the worker's chips.
func (w *worker) runJob(ctx context.Context, j job, o Options) (jobResult, error) {
	w.liveDue = o.LiveEvery <= 1 || j.index%o.LiveEvery == 0
	live0 := w.liveRounds
	if o.Mode == Exhaustive {
		out, err := w.runPoint(ctx, j.point, o.Depth)
		out.kind = j.point.kind.String()
		out.liveRounds = w.liveRounds - live0
		return out, err
	}
	r, err := w.runCase(ctx, j.testCase)
	if err != nil {
		return jobResult{}, err
	}
	out := jobResult{results: []result{r}, kind: "random", liveRounds: w.liveRounds - live0}
	for _, rule := range j.testCase.Round.Rules {
		if _, ok := rule.Do.(faults.Torn); ok {
			out.torn++
		}
	}
	return out, nil
}
