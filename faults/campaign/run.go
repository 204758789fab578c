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
	jobs := planJobs(bs, o)
	workers := make([]workerSet, o.Workers)

	cpu0, wall0 := cpuTime(), time.Now()
	tally := newTally(rep, o.KeepViolations, o.StopAfter)
	err = runPool(ctx, len(workers), len(jobs), func(wi, k int) error {
		w, err := workers[wi].get(jobs[k].bench)
		if err != nil {
			return err
		}
		out, err := w.runJob(ctx, jobs[k], o)
		if err != nil {
			return err
		}
		done := tally.add(out)
		if o.Progress != nil {
			o.Progress(done, len(jobs))
		}
		return nil
	}, tally.stop)
	for _, ws := range workers {
		for _, w := range ws {
			rep.LiveRounds += w.liveRounds
		}
	}
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	tally.finish()
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

// job is one unit of a campaign's work: an exhaustive point or a random
// case on a bench, with its index among all the campaign's (for shards
// and Options.LiveEvery).
type job struct {
	bench    *bench
	point    point
	testCase Case // random mode
	index    int
}

// planJobs lists the jobs of o's shard on the benches, in index order: the
// points of each bench in turn (exhaustive), or the random cases, drawn on
// the benches in turn.
func planJobs(bs []*bench, o Options) []job {
	var jobs []job
	if o.Mode == Exhaustive {
		n := 0
		for i, b := range bs {
			ps := b.points()
			if b.scenario.LongRun {
				ps = b.longRunPoints(i == 0)
			}
			for _, p := range ps {
				if o.Shard.Has(n) {
					jobs = append(jobs, job{bench: b, point: p, index: n})
				}
				n++
			}
		}
		return jobs
	}
	for n := 0; n < o.Count; n++ {
		if o.Shard.Has(n) {
			b := bs[n%len(bs)]
			jobs = append(jobs, job{bench: b, testCase: randomCase(b, o.Seed, n), index: n})
		}
	}
	return jobs
}

// runJob runs and judges one job on the worker's chips.
func (w *worker) runJob(ctx context.Context, j job, o Options) (jobResult, error) {
	w.liveDue = o.LiveEvery <= 1 || j.index%o.LiveEvery == 0
	if o.Mode == Exhaustive {
		out, err := w.runPoint(ctx, j.point, o.Depth)
		out.kind = j.point.kind.String()
		return out, err
	}
	r, err := w.runCase(ctx, j.testCase)
	if err != nil {
		return jobResult{}, err
	}
	out := jobResult{results: []result{r}, kind: "random"}
	for _, rule := range j.testCase.Round.Rules {
		if _, ok := rule.Do.(faults.Torn); ok {
			out.torn++
		}
	}
	return out, nil
}
