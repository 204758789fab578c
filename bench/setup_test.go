package bench

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/info"
)

func TestEngineGeometry(t *testing.T) {
	p, err := sim.LookupPart("w25q256jv") // 32 MiB
	require.NoError(t, err)
	for _, tc := range []struct{ region, want int64 }{
		{64 << 10, 1 << 20},
		{1 << 20, 4 << 20},
		{8 << 20, 32 << 20},
		{32 << 20, 32 << 20}, // capped at the part's size
	} {
		require.Equal(t, tc.want, engineGeometry(p.Geometry(), tc.region).Size, hal.FormatSize(tc.region))
	}
}

func TestRegionStates(t *testing.T) {
	p, err := sim.LookupPart("mx66l1g45g")
	require.NoError(t, err)
	const size = 1 << 20
	st, err := buildStates(p, sim.Erase4K, size, 3)
	require.NoError(t, err)
	for _, b := range [][]byte{st.fresh, st.day, st.alt} {
		require.Len(t, b, size)
	}
	require.NotEqual(t, st.fresh, st.day)
	require.NotEqual(t, st.day, st.alt)
	// Every state is a valid region whose records read back.
	chip, err := sim.New(sim.Options{Part: p, Size: size})
	require.NoError(t, err)
	for _, b := range [][]byte{st.fresh, st.day, st.alt} {
		chip.Poke(0, b)
		r, err := info.OpenRegion(chip, 0, size)
		require.NoError(t, err)
		for _, ty := range info.All() {
			_, err := r.Read(ty)
			require.NoError(t, err, ty)
		}
	}
}

// Replaying a change set's patches rebuilds exactly what the generator
// wrote, round by round.
func TestChangeSetReplays(t *testing.T) {
	p, err := sim.LookupPart("mx66l1g45g")
	require.NoError(t, err)
	const size = 1 << 20
	st, err := buildStates(p, sim.Erase4K, size, 3)
	require.NoError(t, err)
	cache := newChangeCache(3)
	for _, w := range []Workload{Activity(cmcsim.TypicalInterval, 2), Synthetic(1, true), Synthetic(1, false)} {
		cs, err := cache.get(p, st, w)
		require.NoError(t, err)
		again, err := cache.get(p, st, w)
		require.NoError(t, err)
		require.Same(t, cs, again)
		require.Len(t, cs.rounds, w.Rounds)

		chip, err := sim.New(sim.Options{Part: p, Size: size})
		require.NoError(t, err)
		chip.Poke(0, st.day)
		r, err := info.OpenRegion(chip, 0, size)
		require.NoError(t, err)
		g := cmcsim.New(w.seed(3))
		buf := bytes.Clone(st.day)
		for _, rc := range cs.rounds {
			if w.Realistic() {
				require.NoError(t, g.Step(r, w.Activity))
			} else {
				_, err := g.Mutate(r, w.Fraction, w.Clustered)
				require.NoError(t, err)
			}
			want, err := readAll(chip, 0, size)
			require.NoError(t, err)
			prev := bytes.Clone(buf)
			rc.apply(buf)
			require.Equal(t, want, buf, w.Name)
			require.Equal(t, ChangedBytes(prev, buf), rc.changed)
			require.Positive(t, rc.changed, w.Name)
		}
	}
}

// The engine is measured in steady state, and charged for erased blocks it
// takes from its stock.
func TestEngineSteadyState(t *testing.T) {
	p, err := sim.LookupPart("w25q256jv")
	require.NoError(t, err)
	const size = 1 << 20
	st, err := buildStates(p, sim.Erase4K, size, 5)
	require.NoError(t, err)
	sc, err := newScenario(p, "typical", sim.Erase4K, size, Config{Seed: 5, Strategies: Strategies()})
	require.NoError(t, err)
	e, err := sc.setup(context.Background(), st)
	require.NoError(t, err)
	require.NotNil(t, e.engine, e.skipReason)
	require.Positive(t, e.agingRounds)
	w := Workload{Name: "one-round-1pct", Fraction: 0.01, Clustered: true, Rounds: 1}
	cs, err := newChangeCache(5).get(p, st, w)
	require.NoError(t, err)
	rows, err := sc.runWorkload(context.Background(), e, w, cs)
	require.NoError(t, err)
	last := e.engine.last
	require.Equal(t, "committed", last.Outcome)
	eng, ok := find(rows, rows[0].Key(), StrategyEngine)
	require.True(t, ok)
	// Every block written took an erased block: erased in the round, or
	// taken from the stock (erased ahead in the idle time) and charged.
	// (Chunks committed as deltas share delta blocks: fewer blocks than
	// changed chunks.)
	require.Positive(t, eng.Erases)
	require.Equal(t, float64(last.Erases)+eng.StockErases, eng.Erases)
	require.Equal(t, float64(last.PagesProgrammed), eng.PagesProgrammed)
	// The blocks taken from the stock were not read back when they were
	// erased (the store reads an erase-ahead block back in the round that
	// takes it, unless it programs it whole and reads that back twice):
	// the engine is charged the reads of its round only.
	require.Positive(t, eng.StockErases)
	require.Equal(t, float64(last.BytesRead), eng.BytesRead)
}
