package engine

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TestBytesReadCountedWithoutStats: on chips that keep no statistics the
// engine counts a round's reads itself (RoundReport.BytesRead). For a type
// read through its change table that is the record header, read twice
// (before and after the chunks), the table's entries for the record's
// chunks, and the chunks the table says changed.
func TestBytesReadCountedWithoutStats(t *testing.T) {
	ctx := context.Background()
	p := newPair(t, 8<<20, 1<<20, DefaultConfig())
	chipA, chipB := struct{ hal.Flash }{p.chipA}, struct{ hal.Flash }{p.chipB}
	_, keeps := hal.StatsOf(chipA)
	require.False(t, keeps, "the wrapper hides the simulator's statistics")
	e, err := Open(ctx, chipA, chipB, p.opts)
	require.NoError(t, err)
	_, err = e.Round(ctx)
	require.NoError(t, err)

	// Change one byte in a middle chunk of the fault log.
	r := p.region(t, p.chipA)
	rec, err := r.Read(info.FaultLog)
	require.NoError(t, err)
	at := int64(len(rec.Payload) / 2)
	rec.Payload[at] ^= 0xFF
	require.NoError(t, r.Write(info.FaultLog, rec.Payload))

	rep, err := e.Round(ctx)
	require.NoError(t, err)
	require.Equal(t, OutcomeCommitted, rep.Outcome)
	require.Empty(t, rep.ReadWhole, "every type is read through its change table")
	require.Equal(t, 1, rep.ChangedChunks)
	require.Contains(t, rep.Types, info.FaultLog)

	r = p.region(t, p.chipA)
	chunk := r.ChangeUnit()
	var want int64
	for _, ty := range rep.Types {
		off, _ := r.Extent(ty)
		phase := (off + info.RecordHeaderSize) % chunk
		rec, err := r.Read(ty)
		require.NoError(t, err)
		size := int64(len(rec.Payload))
		n := store.ChunkCount(size, phase, chunk)
		want += 2*info.RecordHeaderSize + int64(n*info.ChangeEntrySize)
		if ty == info.FaultLog {
			for i := range n {
				if lo, hi := store.ChunkBounds(size, phase, chunk, i); lo <= at && at < hi {
					want += hi - lo
				}
			}
		}
	}
	require.Equal(t, want, rep.BytesRead)
}
