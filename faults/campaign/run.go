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
	start := time.Now()
	b, err := loadBench(ctx, o.Scenario, o.Seed, o.Mutant)
	if err != nil {
		return nil, err
	}
	rep := &Report{Mode: o.Mode.String(), Scenario: o.Scenario, Seed: o.Seed, Mutant: o.Mutant.String(), Workers: o.Workers,
		Shards: []string{o.Shard.String()}, RoundOps: len(b.steps), Checks: map[string]int{}, Violations: []Violation{}}
	if o.Mode == Exhaustive {
		rep.Depth = o.Depth
	} else {
		rep.Count = o.Count
	}
	jobs := planJobs(b, o)
	workers := make([]*worker, o.Workers)
	for i := range workers {
		if workers[i], err = newWorker(b); err != nil {
			return nil, err
		}
		workers[i].memoLive = true
	}

	cpu0, wall0 := cpuTime(), time.Now()
	tally := newTally(rep, o.KeepViolations, o.StopAfter)
	err = runPool(ctx, len(workers), len(jobs), func(wi, k int) error {
		out, err := workers[wi].runJob(ctx, jobs[k], o)
		if err != nil {
			return err
		}
		done := tally.add(out)
		if o.Progress != nil {
			o.Progress(done, len(jobs))
		}
		return nil
	}, tally.stop)
	for _, w := range workers {
		rep.LiveRounds += w.liveRounds
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

// job is one unit of a campaign's work: an exhaustive point or a random
// case, with its index among all the campaign's (for shards and
// Options.LiveEvery).
type job struct {
	point    point
	testCase Case // random mode
	index    int
}

// planJobs lists the jobs of o's shard, in index order.
func planJobs(b *bench, o Options) []job {
	var jobs []job
	if o.Mode == Exhaustive {
		for n, p := range b.points() {
			if o.Shard.Has(n) {
				jobs = append(jobs, job{point: p, index: n})
			}
		}
		return jobs
	}
	for n := 0; n < o.Count; n++ {
		if o.Shard.Has(n) {
			jobs = append(jobs, job{testCase: randomCase(b, o.Seed, n), index: n})
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
