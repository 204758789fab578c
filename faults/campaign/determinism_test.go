package campaign

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/engine"
)

// reportBytes is the report's JSON without what varies from run to run
// by nature: the timing fields and the number of workers.
func reportBytes(t *testing.T, r *Report) []byte {
	t.Helper()
	c := *r
	c.Workers = 0
	c.PointsPerSecond, c.WallSeconds, c.SetupSeconds, c.CPUSeconds, c.PointsPerCPUSecond = 0, 0, 0, 0, 0
	var b bytes.Buffer
	require.NoError(t, c.WriteJSON(&b))
	return b.Bytes()
}

// TestReportIndependentOfWorkers: one campaign run with one worker and
// with three gives byte-identical reports (timing fields and the worker
// count aside): counts, live rounds, the violations listed and where a
// StopAfter campaign stops.
func TestReportIndependentOfWorkers(t *testing.T) {
	ctx := context.Background()
	// Seed 7's first 30 small cases are those of TestRandomCampaign (the
	// cross-check's known disagreements cover them).
	const count = 30
	for _, o := range []Options{
		{Mode: Random, Scenario: "small", Count: count, Seed: 7, KeepViolations: 3},
		{Mode: Random, Scenario: "small", Count: count, Seed: 7, Mutant: engine.NoPurge, KeepViolations: 3},
		{Mode: Random, Scenario: "small", Count: count, Seed: 7, Mutant: engine.NoPurge, StopAfter: 5, KeepViolations: 3},
		{Mode: Exhaustive, Scenario: "small", Shard: Shard{1, 6}, KeepViolations: 3},
	} {
		var reps [][]byte
		for _, workers := range []int{1, 3} {
			o.Workers = workers
			r, err := Run(ctx, o)
			require.NoError(t, err)
			reps = append(reps, reportBytes(t, r))
			if o.Mutant == engine.NoPurge {
				require.Positive(t, r.ViolationsTotal, "the mutant is caught: the comparison covers violations")
			}
		}
		require.Equal(t, string(reps[0]), string(reps[1]), "%s %s mutant=%v: workers=1 and workers=3 differ", o.Mode, o.Scenario, o.Mutant)
	}
}
