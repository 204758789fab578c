package campaign

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/engine"
)

// benchCases is how many distinct random cases the benchmarks cycle
// through (a fixed mix, so that runs compare).
const benchCases = 256

// BenchmarkRandomCase runs random cases of the standard scenario on one
// worker, as a campaign does (runCase: branched where it can) and from
// the base every time (replay), so that one run gives their ratio.
func BenchmarkRandomCase(b *testing.B) {
	withoutCrossCheck(b)
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
			cpu0 := cpuTime()
			benchWorker(b, bn, func(w *worker, i int) error {
				_, err := mode.run(w, cases[i%len(cases)])
				return err
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "schedules/s")
			reportCPU(b, cpu0)
		})
	}
}

// BenchmarkRandomCampaign runs what `cmcsync campaign --mode random`
// runs: Run with one worker per CPU, 200 schedules of the standard
// scenario per iteration (setup and recording included, as the command's
// wall time includes them; the report's points_per_second leaves them
// out and is reported too).
func BenchmarkRandomCampaign(b *testing.B) {
	withoutCrossCheck(b)
	ctx := context.Background()
	const count = 200
	var pps float64
	for i := 0; i < b.N; i++ {
		r, err := Run(ctx, Options{Mode: Random, Scenario: "standard", Count: count, Seed: 1 + uint64(i)})
		if err != nil {
			b.Fatal(err)
		}
		pps += r.PointsPerSecond
	}
	b.ReportMetric(float64(b.N*count)/b.Elapsed().Seconds(), "schedules/s")
	b.ReportMetric(pps/float64(b.N), "points_per_second")
}

// BenchmarkEngineOpen measures the two engine opens every random case
// makes and no faults-side change can avoid (sync/engine has no way to
// copy an opened engine): the open on the base chips before the round,
// and the recovery's open after it (here: on the chips as a power cut at
// the recorded round's last operation left them). Their sum bounds a
// worker's rate from above.
func BenchmarkEngineOpen(b *testing.B) {
	ctx := context.Background()
	bn, err := loadBench(ctx, "standard", 1, engine.None)
	if err != nil {
		b.Fatal(err)
	}
	for _, at := range []struct {
		name string
		step int
	}{{"base", -1}, {"cut-at-last-op", len(bn.steps) - 1}} {
		b.Run(at.name, func(b *testing.B) {
			w, err := newWorker(bn)
			if err != nil {
				b.Fatal(err)
			}
			snaps := bn.base
			if at.step >= 0 {
				snaps = bn.steps[at.step].snapshots
			}
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				w.chips[0].Restore(snaps[0])
				w.chips[1].Restore(snaps[1])
				w.clock.set(bn.baseTime)
				if _, err := bn.open(ctx, w.chips[0], w.chips[1], w.clock, bn.mutant); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu0)
		})
	}
}

// reportCPU reports the process's CPU time since cpu0 per iteration
// (Linux only): on a machine shared with other jobs it varies less than
// the wall time ns/op is taken from.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	if c := cpuTime() - cpu0; c > 0 {
		b.ReportMetric(float64(c)/1e6/float64(b.N), "cpu-ms/op")
	}
}

// withoutCrossCheck turns off the tests' independent-oracle cross-check
// (TestMain's decodeHook) for the benchmark: the command does not run it.
func withoutCrossCheck(b *testing.B) {
	hook := decodeHook
	decodeHook = nil
	b.Cleanup(func() { decodeHook = hook })
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
	benchWorker(b, bn, func(w *worker, i int) error {
		// Spread over the round: every 7th point, cycling.
		_, err := w.runPoint(ctx, ps[(i*7)%len(ps)], 1)
		return err
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "points/s")
}

// TestRandomBranchEqualsReplayAtScale: over a thousand random cases, with
// the real engine and with a shipped mutant (so that failing verdicts are
// compared too), a campaign's run of each case (branched from the
// recorded round where it can be, with warm caches and the live memo)
// gives exactly the verdicts of replaying the case from the base on a
// fresh worker.
func TestRandomBranchEqualsReplayAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 random cases run twice")
	}
	// Most of these cases are not in the cross-check's list of known
	// disagreements; this test compares verdicts only.
	hook := decodeHook
	decodeHook = nil
	t.Cleanup(func() { decodeHook = hook })
	ctx := context.Background()
	total, branched, failing := 0, 0, 0
	for _, tc := range []struct {
		mutant engine.Mutant
		seed   uint64
		count  int
	}{{engine.None, 21, 600}, {engine.NoPurge, 22, 400}} {
		b, err := loadBench(ctx, "small", tc.seed, tc.mutant)
		require.NoError(t, err)
		w, err := newWorker(b)
		require.NoError(t, err)
		w.memoLive = true
		for n := 0; n < tc.count; n++ {
			if n%jobChunk == 0 {
				clear(w.liveVerdicts)
			}
			c := randomCase(b, tc.seed, n)
			r, err := w.runCase(ctx, c)
			require.NoError(t, err)
			vs, err := Replay(ctx, c)
			require.NoError(t, err)
			require.Equal(t, vs, r.verdicts, "case %s", c)
			total++
			if w.lastRun != ranReplay {
				branched++
			}
			for _, v := range vs {
				if !v.OK && !v.Skipped {
					failing++
					break
				}
			}
		}
	}
	t.Logf("%d cases, %d branched, %d with a violation", total, branched, failing)
	require.GreaterOrEqual(t, total, 1000)
	// Most cases branch from a snapshot (those whose first fault falls
	// after the recorded round's first operation); since change tables
	// and deltas changed the round's operations, a little under half of
	// this sample does (491 of 1000), so the floor is 40%.
	require.Greater(t, branched, total*2/5)
	require.Greater(t, failing, 20)
}

// benchWorker runs op b.N times on one worker (i from 0), its live
// verdicts memoized and cleared every jobChunk runs, as a campaign's
// worker does.
func benchWorker(b *testing.B, bn *bench, op func(w *worker, i int) error) {
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
		if err := op(w, i); err != nil {
			b.Fatal(err)
		}
	}
}
