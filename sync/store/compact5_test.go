package store

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sim"
)

// journalKinds returns how many valid records of each kind the journal
// area in charge of the store on f holds.
func journalKinds(t *testing.T, s *Store) map[string]int {
	t.Helper()
	rep, err := Inspect(s.flash, testStoreOff, testStoreSize, false)
	require.NoError(t, err)
	n := map[string]int{}
	for _, r := range rep.Journal.Log {
		n[r.Kind]++
	}
	return n
}

// version4WithDeltas returns a chip whose store is of format version 4,
// written by a version 4 writer (returned): generation 1 of type 1 (40,000
// bytes) written whole, generations 2 and 3 each with delta blocks of
// version 3 records; and the payloads of generation 3.
func version4WithDeltas(t *testing.T) (*sim.Flash, *Store, payloads) {
	t.Helper()
	f := newChip(t)
	formatTest(t, f)
	asVersion(t, f, chainVersion)
	s := openTest(t, f, Options{})
	s.version = chainVersion // a version 4 writer
	ps := payloads{1: randomBytes(1, 40_000)}
	deltaRound(t, s, 1, ps)
	for g := uint64(2); g < 4; g++ {
		scatter(ps[1], 20, g)
		_, dblocks, _ := deltaRound(t, s, g, ps)
		require.Positive(t, dblocks)
	}
	return f, s, ps
}

// TestVersion4DeltasUpgradedToVersion5: a version 4 store whose chains
// hold version 3 delta records (named by intent-deltas records) is read as
// it is; the next delta round upgrades it to version 5 and appends a
// compact record to the same chains (named by an intent-deltas-5 record),
// so a chain mixes both framings; the state replays, compacts
// (checkpoint-deltas naming both) and reads back, and read as version 4
// again the compact intent-deltas record is damage (the state before it).
func TestVersion4DeltasUpgradedToVersion5(t *testing.T) {
	f, s, ps := version4WithDeltas(t)
	kinds := journalKinds(t, s)
	require.Positive(t, kinds["intent-deltas"])
	require.Zero(t, kinds["intent-deltas-5"])

	s = openTest(t, f, Options{})
	require.Equal(t, uint32(chainVersion), s.Identity().Version)
	require.Empty(t, s.Damage())
	checkPayloads(t, s, ps)
	scatter(ps[1], 20, 9)
	_, dblocks, _ := deltaRound(t, s, 4, ps)
	require.Positive(t, dblocks)
	require.Equal(t, uint32(compactVersion), s.Identity().Version)
	kinds = journalKinds(t, s)
	require.Positive(t, kinds["intent-deltas"], "the version 4 records stay")
	require.Positive(t, kinds["intent-deltas-5"])
	first := func(d DeltaRef) byte {
		b := []byte{0}
		_, err := f.ReadAt(b, s.BlockOffset(d.Block)+int64(d.Off))
		require.NoError(t, err)
		return b[0]
	}
	mixed := 0
	ts, _ := s.StateRef().Type(1)
	for _, c := range ts.Chunks {
		if len(c.Deltas) >= 2 && first(c.Deltas[0]) == byte(deltaMagic&0xFF) && first(c.Deltas[len(c.Deltas)-1]) == deltaTag5 {
			mixed++
		}
	}
	require.Positive(t, mixed, "chains with a version 3 record and a compact one after it")
	requireReopens(t, f, s, ps)
	require.Empty(t, s.VerifyChunks())
	requireCompactsWithDeltas(t, f, s, ps)
}

// TestCompactIntentDeltasIsDamageInVersion4: a compact intent-deltas
// record in a store read as version 4 is malformed: the state is the one
// before it.
func TestCompactIntentDeltasIsDamageInVersion4(t *testing.T) {
	f, s := newStore(t)
	ps := payloads{1: randomBytes(1, 20_000)}
	deltaRound(t, s, 1, ps)
	ps[1][3000] ^= 1
	_, dblocks, _ := deltaRound(t, s, 2, ps)
	require.Equal(t, 1, dblocks)
	asVersion(t, f, chainVersion)
	s4 := openTest(t, f, Options{ReadOnly: true})
	require.NotEmpty(t, s4.Damage())
	require.Equal(t, uint64(1), s4.State().Generation)
}

// TestCompactIntentSmaller: the journal records of a round of scattered
// one-byte changes take fewer bytes in format version 5 than in version 4
// (47-byte entries instead of 53, and shorter delta records).
func TestCompactIntentSmaller(t *testing.T) {
	size := func(v uint32) (journal, deltas int64) {
		f := newChip(t)
		formatTest(t, f)
		asVersion(t, f, v)
		s := openTest(t, f, Options{})
		s.version = v
		ps := payloads{1: randomBytes(1, 100_000)}
		deltaRound(t, s, 1, ps)
		scatter(ps[1], 40, 3)
		r, err := s.Begin(deltaPlanOf(2, ps))
		require.NoError(t, err)
		for _, db := range r.intent.deltas {
			deltas += int64(len(db.data))
		}
		for _, rec := range intentRecords(&s.layout, 1, r.intent) {
			journal += int64(le.Uint32(rec[8:])) // the body, without the slot's padding
		}
		_, _ = writeAndCommit(t, r, 2, ps)
		return journal, deltas
	}
	j4, d4 := size(chainVersion)
	j5, d5 := size(compactVersion)
	require.Less(t, j5, j4)
	require.Less(t, d5, d4)
	t.Logf("journal %d -> %d bytes, delta records %d -> %d bytes", j4, j5, d4, d5)
}
