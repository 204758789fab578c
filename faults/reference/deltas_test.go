package reference_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sync/info"
)

// deltaPair returns a pair (seed 5, deltas allowed) after four rounds of
// CMC activity, the last three 10 minutes apart: chip 1's store holds
// delta records.
func deltaPair(t *testing.T) *pair {
	t.Helper()
	p := newPair(t, 5)
	p.opts.NoDeltas = false
	p.open()
	p.round(0)
	for range 3 {
		p.round(10 * time.Minute)
	}
	return p
}

// TestDeltasDecodedIndependently: rounds of CMC activity commit chunks as
// delta records (compact ones, format version 5); the reference decoder rebuilds every
// payload from bases and chains — the primary's bytes — also after a
// compaction (checkpoint-deltas), and a damaged delta record fails its
// chunk.
func TestDeltasDecodedIndependently(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the engine")
	}
	p := deltaPair(t)
	check := func(what string) *reference.Backup {
		b, err := reference.Decode(p.chips[1], p.layout.StoreOff, p.layout.StoreSize)
		require.NoError(t, err, what)
		require.False(t, b.Damaged(), "%s: %v", what, b.Findings)
		require.Equal(t, uint32(5), b.Superblock.FormatVersion)
		deltas := 0
		for _, ts := range b.Committed.Types {
			for _, c := range ts.Chunks {
				deltas += len(c.Deltas)
			}
			got, err := b.Payload(p.chips[1], ts.Type)
			require.NoError(t, err, "%s: type %d", what, ts.Type)
			rec, err := p.region.Read(info.Type(ts.Type))
			require.NoError(t, err)
			require.Equal(t, rec.Payload, got, "%s: type %d", what, ts.Type)
		}
		require.Positive(t, deltas, "%s: the rounds committed deltas", what)
		return b
	}
	check("journal")
	p.compact(1)
	b := check("checkpoint")
	// Damage one delta record: its chunk fails, the others do not.
	var victim reference.DeltaRef
	for _, ts := range b.Committed.Types {
		for _, c := range ts.Chunks {
			if len(c.Deltas) > 0 {
				victim = c.Deltas[0]
			}
		}
	}
	off := b.BlockOffset(victim.Block) + int64(victim.Off) + int64(victim.Len) - 1
	flip(p.chips[1], off)
	bad, err := b.VerifyChunks(p.chips[1])
	require.NoError(t, err)
	require.NotEmpty(t, bad)
	require.True(t, errors.Is(bad[0].Err, reference.ErrChunk))
}
