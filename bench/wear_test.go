package bench

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// A bounded sample of the wear target (e): 500 rounds of cmc-10m on the
// standard 8 MiB region keep the most-erased store block within the
// bound (the store's blocks are each erased about twice in 500 rounds, so
// the sample shows the allocation cycling through the whole store); the
// report adds up and becomes a gated target.
func TestWearSample(t *testing.T) {
	if testing.Short() {
		t.Skip("500 engine rounds (a few seconds); the store must cycle a few times for the ratio to mean anything")
	}
	const rounds = 500
	rep, err := Wear(context.Background(), WearConfig{Rounds: rounds, Seed: 1})
	require.NoError(t, err)
	t.Log(rep.Line())
	require.Equal(t, rounds, rep.Rounds)
	require.Positive(t, rep.Committed)
	require.Positive(t, rep.TotalErases)
	require.Positive(t, rep.StoreBlocks)
	require.InDelta(t, float64(rep.TotalErases)/float64(rep.StoreBlocks), rep.MeanErases, 1e-9)
	require.GreaterOrEqual(t, float64(rep.MaxErases), rep.MeanErases)
	require.LessOrEqual(t, rep.MinErases, rep.MaxErases)
	require.True(t, rep.Met, rep.Line())

	tg := rep.Target()
	require.Equal(t, "e", tg.ID)
	require.True(t, tg.Gated)
	require.True(t, tg.Met)
	require.Equal(t, UnitRatio, tg.Unit)
	require.InDelta(t, rep.Ratio/WearBound, tg.Worst, 1e-9)
}

// The wear target fails on uneven wear and on a run that erased nothing.
func TestWearTargetFails(t *testing.T) {
	rep := WearReport{Part: "mx66l1g45g", EraseModel: "4k", RegionBytes: 8 << 20, Workload: "cmc-10m", Rounds: 10,
		StoreBlocks: 4, TotalErases: 12, MaxErases: 7, MeanErases: 3, Ratio: 7.0 / 3, BoundRatio: WearBound}
	rep.Met = rep.Ratio <= rep.BoundRatio
	require.False(t, rep.Met)
	tg := rep.Target()
	require.False(t, tg.Met)
	require.Equal(t, "MISSED", tg.Status())
	r := &Report{}
	r.AddWear(rep)
	require.Len(t, r.Failed(), 1)

	// JSON: the ratio under *_ratio keys, not *_seconds; it reads back.
	b, err := json.Marshal(tg)
	require.NoError(t, err)
	require.Contains(t, string(b), `"value_ratio":`)
	require.Contains(t, string(b), `"bound_ratio":2`)
	require.NotContains(t, string(b), "_seconds")
	var back Target
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, tg, back)

	secs := Target{ID: "a", Unit: UnitSeconds, Value: 0.5, Bound: 0.25, Rows: 1}
	b, err = json.Marshal(secs)
	require.NoError(t, err)
	require.Contains(t, string(b), `"value_seconds":0.5`)
	require.Contains(t, string(b), `"bound_seconds":0.25`)
	require.Contains(t, string(b), `"status":"missed"`)
}
