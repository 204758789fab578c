package store

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDigestMemoCannotHideCorruption: a store opened with a digest memo
// that already holds every committed chunk (an earlier open verified
// them) still finds a chunk damaged since, one bit anywhere in it: the
// memo is keyed by the chunk's whole bytes, so the damaged chunk misses
// and is hashed afresh. (With a memo keyed by a prefix of the chunk, the
// damaged chunk would hit the good one's digest and pass.)
func TestDigestMemoCannotHideCorruption(t *testing.T) {
	f := newChip(t)
	formatTest(t, f)
	ps := payloads{1: randomBytes(1, 30000), 2: randomBytes(2, 5000)}
	runRound(t, openTest(t, f, Options{}), 1, ps)
	memo := NewDigestMemo(0)
	s := openTest(t, f, Options{ReadOnly: true, Digests: memo})
	require.Empty(t, s.VerifyChunks())
	held := memo.Len()
	require.Positive(t, held, "the memo holds the verified chunks")
	ts, ok := s.StateRef().Type(1)
	require.True(t, ok)
	for _, at := range []int64{0, 15, 16, 2047, s.ChunkSize() - 1} {
		snap := f.Snapshot()
		off := s.BlockOffset(ts.Chunks[1].Block) + at
		b := make([]byte, 1)
		_, err := f.ReadAt(b, off)
		require.NoError(t, err)
		f.Poke(off, []byte{b[0] ^ 0x10})
		s := openTest(t, f, Options{ReadOnly: true, Digests: memo})
		errs := s.VerifyChunks()
		require.Len(t, errs, 1, "a flipped bit at byte %d of the chunk", at)
		require.Equal(t, 1, errs[0].Index)
		_, err = s.ReadPayload(1)
		require.Error(t, err)
		f.Restore(snap)
	}
	require.Empty(t, openTest(t, f, Options{ReadOnly: true, Digests: memo}).VerifyChunks())
}

// TestDigestMemo: the memo returns ChunkDigest of exactly the bytes given,
// nil remembers nothing, and the limit empties it rather than grow.
func TestDigestMemo(t *testing.T) {
	var none *DigestMemo
	p := randomBytes(3, 4096)
	require.Equal(t, ChunkDigest(p), none.Digest(p))
	require.Zero(t, none.Len())
	m := NewDigestMemo(3 * 4096)
	for i := range 10 {
		q := randomBytes(uint64(i), 4096)
		require.Equal(t, ChunkDigest(q), m.Digest(q))
		require.Equal(t, ChunkDigest(q), m.Digest(q), "from the memo")
		require.LessOrEqual(t, m.Len(), 3)
	}
	q := append([]byte(nil), p...)
	require.Equal(t, ChunkDigest(p), m.Digest(p))
	q[4095] ^= 1
	require.Equal(t, ChunkDigest(q), m.Digest(q))
	require.NotEqual(t, m.Digest(p), m.Digest(q))
	require.Equal(t, ChunkDigest(p[:100]), m.Digest(p[:100]), "a prefix is another key")
}

// TestDigestMemoDefaultLimit: a limit of 0 or below means
// DefaultDigestMemoLimit, not "hold nothing": two distinct chunks are
// both kept; a positive limit is kept as given (two 4 KiB chunks do not
// fit in 4 KiB: the second empties the memo).
func TestDigestMemoDefaultLimit(t *testing.T) {
	for _, tc := range []struct {
		limit int64
		want  int
	}{{0, 2}, {-1, 2}, {4096, 1}, {8192, 2}} {
		m := NewDigestMemo(tc.limit)
		m.Digest(randomBytes(1, 4096))
		m.Digest(randomBytes(2, 4096))
		require.Equal(t, tc.want, m.Len(), "limit %d", tc.limit)
	}
}
