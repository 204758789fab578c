package reference_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TestPayloadsAndChunks reads every committed payload with the reference
// and with the store, then flips one bit of one chunk's data block: only
// that chunk fails VerifyChunks, and only that type's Payload fails.
func TestPayloadsAndChunks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the engine")
	}
	f := newJournalFixture(t)
	chip, l := f.pair.chips[1], f.pair.layout
	st, err := store.Open(chip, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	require.NotEmpty(t, f.ref.Committed.Types)
	for _, ts := range f.ref.Committed.Types {
		got, err := f.ref.Payload(chip, ts.Type)
		require.NoError(t, err, "type %d", ts.Type)
		want, err := st.ReadPayload(ts.Type)
		require.NoError(t, err)
		require.Equal(t, want, got, "type %d", ts.Type)
	}
	bad, err := f.ref.VerifyChunks(chip)
	require.NoError(t, err)
	require.Empty(t, bad)

	victim := f.ref.Committed.Types[len(f.ref.Committed.Types)-1]
	const index = 1
	blk := victim.Chunks[index].Block
	off := l.StoreOff + (int64(f.ref.Superblock.DataFirst)+int64(blk))*f.ref.Superblock.EraseSize
	flip(chip, off+100)

	bad, err = f.ref.VerifyChunks(chip)
	require.NoError(t, err)
	require.Len(t, bad, 1)
	require.Equal(t, victim.Type, bad[0].Type)
	require.Equal(t, index, bad[0].Index)
	require.Equal(t, blk, bad[0].Block)
	require.ErrorIs(t, bad[0].Err, reference.ErrChunk)

	_, err = f.ref.Payload(chip, victim.Type)
	require.ErrorIs(t, err, reference.ErrChunk)
	for _, ts := range f.ref.Committed.Types[:len(f.ref.Committed.Types)-1] {
		_, err := f.ref.Payload(chip, ts.Type)
		require.NoError(t, err, "type %d", ts.Type)
	}
	require.Len(t, st.VerifyChunks(), 1, "the store finds the same bad chunk")

	_, err = f.ref.Payload(chip, 99)
	require.ErrorIs(t, err, reference.ErrNoType)
}

// TestBlockSets checks the committed and pending block sets against the
// store: an interrupted round's blocks, none of them committed.
func TestBlockSets(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the engine")
	}
	p := newPair(t, 3)
	p.round(0)
	p.faultedRound(30*time.Minute, "(on (and backup program (after 60)) cut)")
	ref := requireAgree(t, p.chips[1], p.layout, "interrupted")
	require.NotNil(t, ref.Pending)
	pending := ref.BlocksOfPending()
	require.NotEmpty(t, pending)
	committed := ref.CommittedBlocks()
	require.NotEmpty(t, committed)
	for _, b := range pending {
		require.NotContains(t, committed, b)
	}
	st, err := store.Open(p.chips[1], p.layout.StoreOff, p.layout.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	var want []uint32
	for _, ts := range st.State().Types {
		for _, c := range ts.Chunks {
			want = append(want, c.Block)
		}
	}
	require.ElementsMatch(t, want, committed)

	p.open()
	ref = requireAgree(t, p.chips[1], p.layout, "purged")
	require.Nil(t, ref.BlocksOfPending())
	require.Equal(t, pending, ref.LastPurged.Blocks())
}

// TestChunkGeometry checks the reference's chunk cutting (docs/FORMAT.md,
// 4.5) against the store's, through the payload digests it yields.
func TestChunkGeometry(t *testing.T) {
	const e = 4096
	tests := []struct {
		size, phase int64
	}{
		{0, 0}, {1, 0}, {1, e - 1}, {e, 0}, {e, 1}, {e - 32, 32}, {3*e + 7, 100}, {10 * e, e - 1},
	}
	for _, tt := range tests {
		payload := make([]byte, tt.size)
		for i := range payload {
			payload[i] = byte(i * 7)
		}
		chunks, digest := store.DigestPayload(payload, tt.phase, e)
		got, err := reference.DigestPayload(payload, tt.phase, e)
		require.NoError(t, err)
		require.Equal(t, store.ChunkCount(tt.size, tt.phase, e), len(got.Chunks), "%+v", tt)
		for i, c := range chunks {
			require.Equal(t, [32]byte(c), [32]byte(got.Chunks[i].Digest), "%+v chunk %d", tt, i)
			lo, hi := store.ChunkBounds(tt.size, tt.phase, e, i)
			require.Equal(t, store.ChunkCheck(payload[lo:hi]), got.Chunks[i].Check, "%+v chunk %d", tt, i)
		}
		require.Equal(t, [32]byte(digest), [32]byte(got.Digest), "%+v", tt)
	}
	_, err := reference.DigestPayload(nil, e, e)
	require.True(t, errors.Is(err, reference.ErrPhase))
}
