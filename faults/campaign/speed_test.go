package campaign

import (
	"context"
	"testing"

	"github.com/cmcsync/cmcsync/sync/engine"
)

// benchCases is how many distinct random cases the benchmarks cycle
// through (a fixed mix, so that runs compare).
const benchCases = 256

// BenchmarkRandomCase runs random cases of the standard scenario on one
// worker, as a campaign does (runCase: branched where it can) and from
// the base every time (replay), so that one run gives their ratio.
func BenchmarkRandomCase(b *testing.B) {
	ctx := context.Background()
	bn, err := loadBench(ctx, "standard", 1, engine.None)
	if err != nil {
		b.Fatal(err)
	}
	cases := make([]Case, benchCases)
	for n := range cases {
		cases[n] = randomCase(bn, 1, n)
	}
	for _, mode := range []struct {
		name string
		run  func(w *worker, c Case) (result, error)
	}{
		{"campaign", func(w *worker, c Case) (result, error) { return w.runCase(ctx, c) }},
		{"replay", func(w *worker, c Case) (result, error) { return w.replay(ctx, c) }},
	} {
		b.Run(mode.name, func(b *testing.B) {
			w, err := newWorker(bn)
			if err != nil {
				b.Fatal(err)
			}
			w.memoLive = true
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i%jobChunk == 0 {
					clear(w.liveVerdicts)
				}
				if _, err := mode.run(w, cases[i%len(cases)]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "schedules/s")
		})
	}
}

// BenchmarkExhaustivePoint runs the standard scenario's exhaustive points
// (depth 1) on one worker, as a campaign does.
func BenchmarkExhaustivePoint(b *testing.B) {
	ctx := context.Background()
	bn, err := loadBench(ctx, "standard", 1, engine.None)
	if err != nil {
		b.Fatal(err)
	}
	ps := bn.points()
	w, err := newWorker(bn)
	if err != nil {
		b.Fatal(err)
	}
	w.memoLive = true
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%jobChunk == 0 {
			clear(w.liveVerdicts)
		}
		// Spread over the round: every 7th point, cycling.
		if _, err := w.runPoint(ctx, ps[(i*7)%len(ps)], 1); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "points/s")
}
