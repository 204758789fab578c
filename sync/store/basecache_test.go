package store

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBaseCacheSparesTheBaseReads: a delta round after rounds of this
// Store reads nothing of the backup to plan its deltas (the bases and
// chains come from the cache), and commits the same chunks as a store
// that reads them (a reopened one, whose cache is empty).
func TestBaseCacheSparesTheBaseReads(t *testing.T) {
	f := newChip(t)
	formatTest(t, f)
	s := openTest(t, f, Options{})
	ps := payloads{1: randomBytes(1, 100_000)}
	deltaRound(t, s, 1, ps)
	scatter(ps[1], 50, 2)
	deltaRound(t, s, 2, ps) // chains of one record

	scatter(ps[1], 50, 3)
	before := f.Stats()
	r, err := s.Begin(deltaPlanOf(3, ps))
	require.NoError(t, err)
	cached := f.Stats().Sub(before).BytesRead // the journal's tail, not the bases
	r.Abandon()

	s2 := openTest(t, f, Options{}) // purges the abandoned round
	_, err = s2.Purge()
	require.NoError(t, err)
	before = f.Stats()
	r, err = s2.Begin(deltaPlanOf(3, ps))
	require.NoError(t, err)
	uncached := f.Stats().Sub(before).BytesRead
	require.Less(t, cached, int64(2*4096), "with the cache: the journal's tail only")
	require.Greater(t, uncached, cached+15*4096, "without the cache each changed chunk's base is read (cached %d, uncached %d bytes)", cached, uncached)
	r.Abandon()
}

// TestBaseCacheIgnoresAStaleEntry: an entry whose contents are not the
// committed chunk's (the state moved on without the cache) is not used:
// the delta is planned from the backup and the committed payload is right.
func TestBaseCacheIgnoresAStaleEntry(t *testing.T) {
	f := newChip(t)
	formatTest(t, f)
	s := openTest(t, f, Options{})
	ps := payloads{1: randomBytes(1, 40_000)}
	deltaRound(t, s, 1, ps)
	for i := range ChunkCount(int64(len(ps[1])), testPhase, 4096) {
		lo, hi := ChunkBounds(int64(len(ps[1])), testPhase, 4096, i)
		s.cache.put(1, i, randomBytes(uint64(100+i), int(hi-lo)))
	}
	scatter(ps[1], 30, 2)
	_, dblocks, _ := deltaRound(t, s, 2, ps)
	require.Positive(t, dblocks)
	checkPayloads(t, s, ps)
	checkPayloads(t, openTest(t, f, Options{ReadOnly: true}), ps)
}

// TestBaseCacheCountsAReplacedEntryOnce: putting a chunk the cache holds
// replaces its bytes in the count (new length less the old), so a cache
// filled to its limit by replacements still takes the chunks that fit.
func TestBaseCacheCountsAReplacedEntryOnce(t *testing.T) {
	var c baseCache
	c.put(1, 0, make([]byte, 3000))
	require.Equal(t, int64(3000), c.bytes)
	c.put(1, 0, make([]byte, 1000))
	require.Equal(t, int64(1000), c.bytes, "the replaced 3000 bytes are no longer counted")
	c.put(1, 1, make([]byte, 500))
	require.Equal(t, int64(1500), c.bytes)
	c.put(1, 0, make([]byte, 2000))
	require.Equal(t, int64(2500), c.bytes)
	require.True(t, c.room(2, 0, baseCacheLimit-2500, 0), "exactly the rest of the limit")
	require.False(t, c.room(2, 0, baseCacheLimit-2499, 0))
}
