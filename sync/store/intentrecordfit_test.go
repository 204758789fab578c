package store

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIntentChunksRecordsFitABlock: a round's intent-chunks entries are
// split into records of at most ⌊(E−28−16)/49⌋ entries (82 for 4 KiB
// blocks: 28 + 10 + 82·49 = 4056 bytes), so that each record fits in one
// erase block; 83 would make a 4105-byte record (4352 padded to the
// 256-byte slots). Entries that form no run (every other block), format
// versions 4 and 5: every record fits, and the records decode to the
// entries in order.
func TestIntentChunksRecordsFitABlock(t *testing.T) {
	_, s := newStore(t)
	e := s.eraseSize
	require.Equal(t, int64(4096), e)
	const perRec = 82
	for _, v := range []uint32{4, 5} {
		for _, n := range []int{1, perRec - 1, perRec, perRec + 1, 2 * perRec, 2*perRec + 1, 250} {
			t.Run(fmt.Sprintf("version %d, %d entries", v, n), func(t *testing.T) {
				sb := s.layout
				sb.Version = v
				in := &intent{generation: 3, config: s.committed.Config}
				for i := range n {
					in.entries = append(in.entries, IntentEntry{Type: 1, Index: uint32(i), Block: uint32(2 * i), Check: uint64(i) + 1, Digest: Digest{byte(i), 7}})
				}
				recs := intentRecords(&sb, 10, in)
				for k, rec := range recs {
					require.LessOrEqual(t, int64(len(rec)), e, "record %d", k)
				}
				require.Equal(t, 1+(n+perRec-1)/perRec, len(recs), "the head and the intent-chunks records")
				var got []IntentEntry
				for k, rec := range recs {
					r, st := parseRecord(rec, s.slotSize, false)
					require.Equal(t, parseOK, st)
					if k == 0 {
						require.Equal(t, kindIntent, r.kind)
						continue
					}
					require.Equal(t, kindIntentChunk, r.kind)
					var err error
					_, got, err = decodeIntentChunks(r.body, got)
					require.NoError(t, err)
				}
				require.Equal(t, in.entries, got)
			})
		}
	}
}
