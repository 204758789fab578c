package engine

import (
	"bytes"
	"context"
	"hash/crc32"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/info"
)

// syncedPair is a pair after a first sync and an interval of CMC activity:
// the next round has changed chunks to write.
func syncedPair(t *testing.T) *pair {
	t.Helper()
	return syncedPairAfter(t, DefaultConfig(), cmcsim.TypicalInterval)
}

func chipBytes(t *testing.T, f *sim.Flash) []byte {
	t.Helper()
	b := make([]byte, f.Geometry().Size)
	_, err := f.ReadAt(b, 0)
	require.NoError(t, err)
	return b
}

func payloadSums(p *Prepared) map[uint8]uint32 {
	m := map[uint8]uint32{}
	for t, b := range p.payloads {
		m[t] = crc32.ChecksumIEEE(b)
	}
	return m
}

// TestPrepareApplyIsRound: Prepare then Apply does what Round does, to the
// byte and to the report; the prepared round also applies on another
// engine opened on the same contents, is left unchanged by Apply, and is
// refused once stale.
func TestPrepareApplyIsRound(t *testing.T) {
	ctx := context.Background()
	// Identical pairs (same seeds, same steps, same clocks).
	px, py, pz := syncedPair(t), syncedPair(t), syncedPair(t)
	require.Equal(t, chipBytes(t, px.chipB), chipBytes(t, py.chipB))

	ex := px.open(t)
	want, err := ex.Round(ctx)
	require.NoError(t, err)
	require.Equal(t, OutcomeCommitted, want.Outcome)
	require.Positive(t, want.ChangedChunks)

	ey := py.open(t)
	prep, rep, err := ey.Prepare(ctx)
	require.NoError(t, err)
	require.NotNil(t, prep)
	require.Equal(t, RoundReport{}, rep)
	require.Equal(t, want.Generation, prep.Generation())
	require.Equal(t, want.Types, prep.Types())
	sums := payloadSums(prep)
	got, err := ey.Apply(ctx, prep)
	require.NoError(t, err)
	require.Equal(t, want, got, "Prepare+Apply reports what Round reports")
	require.True(t, bytes.Equal(chipBytes(t, px.chipB), chipBytes(t, py.chipB)), "Prepare+Apply leaves the backup byte for byte as Round does")
	require.True(t, bytes.Equal(chipBytes(t, px.chipA), chipBytes(t, py.chipA)))
	require.Equal(t, ex.Status().Counters, ey.Status().Counters)
	require.Equal(t, sums, payloadSums(prep), "Apply leaves the prepared payloads as they were")

	// Applied again on the engine that committed it: stale.
	_, err = ey.Apply(ctx, prep)
	require.ErrorIs(t, err, ErrStale)

	// On another engine opened on the contents it was prepared from.
	ez := pz.open(t)
	zrep, err := ez.Apply(ctx, prep)
	require.NoError(t, err)
	require.Equal(t, OutcomeCommitted, zrep.Outcome)
	require.Equal(t, want.ChangedChunks, zrep.ChangedChunks)
	requireSynced(t, pz, pz.chipA, pz.chipB, DefaultConfig().Types)
	require.Equal(t, sums, payloadSums(prep))
	// Its cache holds copies: the next round, with nothing changed, uses
	// them and the prepared payloads stay intact after the engine is
	// released.
	next, err := ez.Round(ctx)
	require.NoError(t, err)
	require.Equal(t, OutcomeNothingChanged, next.Outcome)
	ez.Release()
	require.Equal(t, sums, payloadSums(prep))
}

func TestApplyRefusesStale(t *testing.T) {
	ctx := context.Background()
	p := syncedPair(t)
	e := p.open(t)
	prep, _, err := e.Prepare(ctx)
	require.NoError(t, err)
	require.NotNil(t, prep)

	cfg := e.Config()
	cfg.Interval += time.Minute
	require.NoError(t, e.SetConfig(cfg))
	before := chipBytes(t, p.chipB)
	_, err = e.Apply(ctx, prep)
	require.ErrorIs(t, err, ErrStale)
	require.ErrorContains(t, err, "configuration changed")
	require.True(t, bytes.Equal(before, chipBytes(t, p.chipB)), "a stale Apply writes nothing")

	_, err = e.Apply(ctx, nil)
	require.ErrorIs(t, err, ErrStale)
}

// TestPrepareEndsTheRound: when the round ends in its first half (here the
// primary's information region cannot be read), Prepare returns no
// prepared round and the report Round would have returned (a failover: a
// record that stays corrupt counts as no answer).
func TestPrepareEndsTheRound(t *testing.T) {
	ctx := context.Background()
	p := syncedPair(t)
	// Scribble the first record's header on the primary.
	off, _ := p.region(t, p.chipA).Extent(info.Power)
	require.NoError(t, p.chipA.Erase(off, 4096))
	e := p.open(t)
	prep, rep, err := e.Prepare(ctx)
	require.Nil(t, prep)
	require.NoError(t, err, "an anomaly is not an error")
	require.Equal(t, OutcomeFailover, rep.Outcome)
	require.NotEmpty(t, rep.Anomaly)
	require.Equal(t, int64(1), e.Status().Counters.Rounds)
}
