package reference_test

import (
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TestStaleCompactRecordFailsItsChunk: a compact delta record (tag 0xD5)
// carries no generation, so a record left at a committed record's place —
// here one of the same length, type and chunk index with other run bytes
// and a CRC that matches them, as an earlier use of the block could have
// left — passes the record's own checks. docs/FORMAT.md 4.14 says the
// chunk's digest (which the journal entry carries in full) refuses it:
// both readers report that chunk, and only it, while the journal stays
// undamaged.
func TestStaleCompactRecordFailsItsChunk(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the engine")
	}
	p := deltaPair(t)
	chip := p.chips[1]
	b, err := reference.Decode(chip, p.layout.StoreOff, p.layout.StoreSize)
	require.NoError(t, err)
	require.False(t, b.Damaged(), "%v", b.Findings)
	var (
		victim reference.DeltaRef
		typ    uint8
		index  = -1
	)
	for _, ts := range b.Committed.Types {
		for i, c := range ts.Chunks {
			if n := len(c.Deltas); n > 0 && index < 0 {
				victim, typ, index = c.Deltas[n-1], ts.Type, i
			}
		}
	}
	require.GreaterOrEqual(t, index, 0, "the rounds committed deltas")
	off := b.BlockOffset(victim.Block) + int64(victim.Off)
	rec := make([]byte, victim.Len)
	_, err = chip.ReadAt(rec, off)
	require.NoError(t, err)
	require.Equal(t, byte(0xD5), rec[0], "a compact record")
	require.Greater(t, len(rec), 10, "a record with a run")
	// Another record of the same chunk: the first run's first byte
	// changed, the CRC recomputed.
	le := binary.LittleEndian
	rec[6+3] ^= 0x5A
	le.PutUint32(rec[len(rec)-4:], crc32.Checksum(rec[:len(rec)-4], crc32.MakeTable(crc32.Castagnoli)))
	chip.Poke(off, rec)

	again, err := reference.Decode(chip, p.layout.StoreOff, p.layout.StoreSize)
	require.NoError(t, err)
	require.False(t, again.Damaged(), "the journal is untouched: %v", again.Findings)
	bad, err := again.VerifyChunks(chip)
	require.NoError(t, err)
	require.Len(t, bad, 1)
	require.Equal(t, typ, bad[0].Type)
	require.Equal(t, index, bad[0].Index)
	require.ErrorIs(t, bad[0].Err, reference.ErrChunk)

	st, err := store.Open(chip, p.layout.StoreOff, p.layout.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	require.Empty(t, st.Damage())
	sbad := st.VerifyChunks()
	require.Len(t, sbad, 1)
	require.Equal(t, typ, sbad[0].Type)
	require.Equal(t, index, sbad[0].Index)
	require.ErrorIs(t, sbad[0].Err, store.ErrVerify)
}
