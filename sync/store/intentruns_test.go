package store

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

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
