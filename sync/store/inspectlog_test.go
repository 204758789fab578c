package store

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestInspectJournalLog checks the journal log Inspect reports against the
// record framing: the first record at the start of the area in charge,
// sequence numbers one apart, each record slot-aligned and padded to the
// slot, the next one right after it or at the start of an erase block
// (a round after an Open starts a new block), and the tail where the next
// record goes. The types' chunk
// counts follow their sizes, and the live store reports the types a
// read-only open does (its log is the one it opened with).
func TestInspectJournalLog(t *testing.T) {
	f, s := newStore(t)
	ps := payloads{1: randomBytes(1, 9000), 2: randomBytes(2, 500)}
	runRound(t, s, 1, ps)
	ps[1][4000] ^= 1
	ps[3] = randomBytes(3, 5000)
	runRound(t, s, 2, ps)

	rep, err := Inspect(f, testStoreOff, testStoreSize, true)
	require.NoError(t, err)
	sb := rep.Superblock
	eb, slot := sb.EraseSize, sb.SlotSize
	area := testStoreOff + int64(sb.Journal[rep.Journal.Area])*eb
	log := rep.Journal.Log
	require.Len(t, log, rep.Journal.Records)
	require.GreaterOrEqual(t, len(log), 6)
	require.Equal(t, area, log[0].Off, "the journal starts at its area")
	require.Equal(t, "checkpoint-begin", log[0].Kind)
	kinds := map[string]int{}
	for i, x := range log {
		kinds[x.Kind]++
		require.Zero(t, x.Off%slot, "record %d slot-aligned", i)
		require.Zero(t, x.Size%slot, "record %d padded to the slot", i)
		require.Positive(t, x.Size, "record %d", i)
		require.Equal(t, x.Off/eb, (x.Off+x.Size-1)/eb, "record %d does not cross an erase block", i)
		if i == 0 {
			continue
		}
		prev := log[i-1]
		require.Equal(t, prev.Seq+1, x.Seq, "record %d", i)
		end := prev.Off + prev.Size
		if x.Off != end {
			require.Zero(t, x.Off%eb, "record %d: only a new erase block leaves a gap", i)
			require.Greater(t, x.Off, end, "record %d", i)
		}
	}
	last := log[len(log)-1]
	// A store opened again goes on at the erase block after the one the
	// chain ended in; the live store right after its last record.
	require.NotZero(t, (last.Off+last.Size)%eb, "the last record does not end its block")
	require.Equal(t, area+((last.Off-area)/eb+1)*eb, rep.Journal.Tail)
	require.Equal(t, 2, kinds["commit"])
	require.Equal(t, 2, kinds["intent"])
	require.False(t, rep.Journal.Torn)
	require.Equal(t, uint64(2), rep.Generation)
	require.True(t, rep.Verified)
	require.Empty(t, rep.BadChunks)
	require.Empty(t, rep.Damage)
	for _, tr := range rep.Types {
		require.Equal(t, ChunkCount(tr.Size, int64(tr.Phase), eb), tr.Chunks, "type %d", tr.Type)
		require.Equal(t, int64(len(ps[tr.Type])), tr.Size, "type %d", tr.Type)
	}
	require.Len(t, rep.Types, 3)
	live := s.Report(true)
	require.Equal(t, last.Off+last.Size, live.Journal.Tail)
	require.Equal(t, rep.Journal.Area, live.Journal.Area)
	require.Equal(t, rep.Journal.Epoch, live.Journal.Epoch)
	require.Equal(t, rep.Types, live.Types)
}
