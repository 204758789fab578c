package engine

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// pair is two simulated chips on one clock, formatted, with a populated
// primary.
type pair struct {
	clock        *sim.Clock
	chipA, chipB *sim.Flash
	opts         Options
	cmc          *cmcsim.Generator
}

func newPair(t testing.TB, chipSize, infoSize int64, cfg Config) *pair {
	t.Helper()
	clock := simtest.NewClock()
	a, b := simtest.Pair(t, "mx66l1g45g", sim.Options{Size: chipSize, Clock: clock, Seed: 1})
	return newPairOf(t, a, b, clock, infoSize, cfg, 7)
}

// newPairOf formats chips a and b on clock with the default layout for an
// information region of infoSize bytes and fills the primary by a
// generator seeded seed.
func newPairOf(t testing.TB, a, b *sim.Flash, clock *sim.Clock, infoSize int64, cfg Config, seed uint64) *pair {
	t.Helper()
	l, err := DefaultLayout(a.Geometry(), infoSize)
	require.NoError(t, err)
	p := &pair{clock: clock, chipA: a, chipB: b, opts: Options{Clock: clock, Layout: l, Config: cfg}, cmc: cmcsim.New(seed)}
	_, err = FormatAndFill(a, b, p.opts, p.cmc.Populate)
	require.NoError(t, err)
	return p
}

// syncedPairAfter is a pair after a first sync (with cfg) and step of CMC
// activity: the next round has changed chunks to write.
func syncedPairAfter(t testing.TB, cfg Config, step time.Duration) *pair {
	t.Helper()
	p := newPair(t, 8<<20, 1<<20, cfg)
	e := p.open(t)
	_, err := e.Round(context.Background())
	require.NoError(t, err)
	require.NoError(t, p.cmc.Step(p.region(t, p.chipA), step))
	return p
}

func (p *pair) region(t testing.TB, f hal.Flash) *info.Region {
	t.Helper()
	r, err := info.OpenRegion(f, p.opts.Layout.InfoOff, p.opts.Layout.InfoSize)
	require.NoError(t, err)
	return r
}

func (p *pair) open(t testing.TB) *Engine {
	t.Helper()
	e, err := Open(context.Background(), p.chipA, p.chipB, p.opts)
	require.NoError(t, err)
	return e
}

// requireSynced checks that the backup's newest generation holds exactly
// the primary's information for the given types.
func requireSynced(t testing.TB, p *pair, primary, backup hal.Flash, types []info.Type) {
	t.Helper()
	s, err := store.Open(backup, p.opts.Layout.StoreOff, p.opts.Layout.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	r := p.region(t, primary)
	for _, ty := range types {
		rec, err := r.Read(ty)
		require.NoError(t, err)
		got, err := s.ReadPayload(uint8(ty))
		require.NoError(t, err, "type %v", ty)
		require.Equal(t, rec.Payload, got, "type %v", ty)
	}
}

func TestFirstAndIncrementalSync(t *testing.T) {
	p := newPair(t, 8<<20, 2<<20, DefaultConfig())
	e := p.open(t)
	ctx := context.Background()
	rep, err := e.Round(ctx)
	require.NoError(t, err)
	require.Equal(t, OutcomeCommitted, rep.Outcome)
	require.Equal(t, uint64(1), rep.Generation)
	requireSynced(t, p, p.chipA, p.chipB, info.All())

	require.NoError(t, p.cmc.Step(p.region(t, p.chipA), 5*time.Minute))
	rep, err = e.Round(ctx)
	require.NoError(t, err)
	require.Equal(t, OutcomeCommitted, rep.Outcome)
	require.Greater(t, rep.ChangedChunks, 0)
	require.Less(t, rep.ChangedChunks, 30)
	// Only the changed chunks (pre-erased blocks: no data erase) plus a
	// few pages of intent and commit (and at most the erase of the next
	// journal block when the intent fills one).
	require.Equal(t, int64(0), rep.DataErases)
	require.LessOrEqual(t, rep.Erases, int64(1))
	require.Empty(t, rep.ReadWhole, "every type read through its change table")
	require.Less(t, rep.BytesRead, int64(1<<20), "a round reads the changed chunks, not the 2 MiB region")
	require.LessOrEqual(t, rep.PagesProgrammed, int64(rep.ChangedChunks*16+8))
	require.Greater(t, rep.PagesProgrammed, int64(rep.ChangedChunks))
	requireSynced(t, p, p.chipA, p.chipB, info.All())
	t.Logf("incremental: %+v", rep)

	rep, err = e.Round(ctx)
	require.NoError(t, err)
	require.Equal(t, OutcomeNothingChanged, rep.Outcome)
	require.Equal(t, int64(0), rep.Erases)
	require.Equal(t, int64(1), rep.PagesProgrammed)

	e2 := p.open(t)
	require.Equal(t, e.Status().Generation, e2.Status().Generation)
}
