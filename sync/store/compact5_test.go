package store

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
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

// TestVersion4DeltasUpgradedToVersion5: a version 4 store whose chains
// hold version 3 delta records (named by intent-deltas records) is read as
// it is; the next delta round upgrades it to version 5 and appends a
// compact record to the same chains (named by an intent-deltas-5 record),
// so a chain mixes both framings; the state replays, compacts
// (checkpoint-deltas naming both) and reads back, and read as version 4
// again the compact intent-deltas record is damage (the state before it).
func TestVersion4DeltasUpgradedToVersion5(t *testing.T) {
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

// TestIntentRunsRecords: a round that writes many consecutive chunks
// whole lists them in intent-runs records (fewer journal bytes than
// intent-chunks entries), which replay to the same state, pending (cut
// before its commit: purged) and committed; in a store read as version 4
// the intent-runs record is damage.
func TestIntentRunsRecords(t *testing.T) {
	f, s := newStore(t)
	ps := payloads{1: randomBytes(1, 400_000)}
	r, err := s.Begin(deltaPlanOf(1, ps))
	require.NoError(t, err)
	recs := intentRecords(&s.layout, 1, r.intent)
	runs := 0
	for _, rec := range recs {
		if rec[4] == kindIntentRuns {
			runs++
		}
	}
	require.Positive(t, runs)
	sb4 := s.layout
	sb4.Version = chainVersion // intent-chunks records alone
	size := func(recs [][]byte) (n int) {
		for _, rec := range recs {
			n += len(rec) // padded to the slot
		}
		return n
	}
	require.Less(t, size(recs), size(intentRecords(&sb4, 1, r.intent)))

	cut := openTest(t, f, Options{ReadOnly: true})
	require.Empty(t, cut.Damage())
	require.NotNil(t, cut.pending, "the round's intent replays")
	cut.pending.decodeRaw()
	require.ElementsMatch(t, r.intent.entries, cut.pending.entries)

	writeAndCommit(t, r, 1, ps)
	requireReopens(t, f, s, ps)
	asVersion(t, f, chainVersion)
	s4 := openTest(t, f, Options{ReadOnly: true})
	require.NotEmpty(t, s4.Damage())
	require.Zero(t, s4.State().Generation)
}

// TestExpandRunsRefusesBadRuns: an intent-runs body with a run of spares,
// of no entries, past 2^32 − 1 blocks, or cut short is malformed; a good
// one expands to intent-chunks entries.
func TestExpandRunsRefusesBadRuns(t *testing.T) {
	body := func(typ uint8, first, block uint32, n uint16, entries int) []byte {
		var b enc
		b.u64(5)
		b.u16(1)
		b.u8(typ)
		b.u32(first)
		b.u32(block)
		b.u16(n)
		for range entries {
			b.u64(7)
			b.raw(make([]byte, DigestSize))
		}
		return b.buf
	}
	gen, p, err := expandRuns(body(1, 3, 10, 2, 2))
	require.NoError(t, err)
	require.Equal(t, uint64(5), gen)
	got := appendIntentEntries(nil, p)
	require.Equal(t, []IntentEntry{{Type: 1, Index: 3, Block: 10, Check: 7}, {Type: 1, Index: 4, Block: 11, Check: 7}}, got)
	for name, b := range map[string][]byte{
		"spares":      body(SpareType, 0, 10, 2, 2),
		"no entries":  body(1, 3, 10, 0, 0),
		"past 2^32":   body(1, 3, math.MaxUint32, 2, 2),
		"cut short":   body(1, 3, 10, 3, 2),
		"bytes after": append(body(1, 3, 10, 2, 2), 0),
	} {
		_, _, err := expandRuns(b)
		require.ErrorIs(t, err, ErrCorrupt, name)
	}
}

// TestIntentRunsBodiesSplitRuns: runs longer than a record holds are
// split across bodies of at most room bytes, which expand back to the
// same entries in order.
func TestIntentRunsBodiesSplitRuns(t *testing.T) {
	var run []IntentEntry
	for i := range uint32(250) {
		run = append(run, IntentEntry{Type: 2, Index: 7 + i, Block: 100 + i, Check: uint64(i)})
	}
	other := []IntentEntry{{Type: 3, Index: 0, Block: 9}, {Type: 3, Index: 1, Block: 10}}
	room := int64(4096 - recordOverhead)
	bodies := intentRunsBodies(6, [][]IntentEntry{run, other}, room)
	require.Len(t, bodies, 3)
	var got []IntentEntry
	for _, b := range bodies {
		require.LessOrEqual(t, int64(len(b)), room)
		gen, p, err := expandRuns(b)
		require.NoError(t, err)
		require.Equal(t, uint64(6), gen)
		got = appendIntentEntries(got, p)
	}
	require.Equal(t, append(append([]IntentEntry(nil), run...), other...), got)
}
