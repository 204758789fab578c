package store

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestUseRunsCountsTheRecordsWritten: useRuns chooses the runs encoding
// exactly when the records it makes (intent-chunks records for the
// singles, intent-runs records for the runs) take fewer journal slots
// than intent-chunks records for every entry, both counted on the records
// themselves (encodeRecord pads each to whole slots). The sets hold more
// singles than one intent-chunks record takes (82 a 4 KiB block), so the
// last record of each encoding holds a part only.
func TestUseRunsCountsTheRecordsWritten(t *testing.T) {
	slots := func(sb *Superblock, recs [][]byte) int64 {
		n := int64(0)
		for _, r := range recs {
			n += int64(len(r)) / sb.SlotSize
		}
		return n
	}
	// chunkRecords are the intent-chunks records of entries, as a store of
	// a version without intent-runs records writes them (the head left out).
	chunkRecords := func(sb Superblock, entries []IntentEntry) [][]byte {
		sb.Version = compactVersion - 1
		return intentRecords(&sb, 1, &intent{generation: 7, entries: entries})[1:]
	}
	for _, eraseSize := range []int64{4096, 8192} {
		for _, slot := range []int64{16, 64, 256} {
			for _, singles := range []int{0, 40, 82, 83, 100, 150, 164, 165, 200, 250} {
				for _, runs := range []int{0, 1, 2, 5, 12} {
					for _, runLen := range []int{2, 3, 9} {
						sb := Superblock{Version: compactVersion, EraseSize: eraseSize, SlotSize: slot}
						var entries []IntentEntry
						for i := range singles {
							entries = append(entries, IntentEntry{Type: 1, Index: uint32(2 * i), Block: uint32(3 * i)})
						}
						for r := range runs {
							for k := range runLen {
								entries = append(entries, IntentEntry{Type: 2, Index: uint32(100*r + k), Block: uint32(5000 + 100*r + k)})
							}
						}
						s, rs := splitRuns(entries)
						require.Len(t, s, singles)
						require.Len(t, rs, runs)
						all := slots(&sb, chunkRecords(sb, entries))
						withRuns := slots(&sb, chunkRecords(sb, s))
						for _, b := range intentRunsBodies(7, rs, eraseSize-recordOverhead) {
							withRuns += slots(&sb, [][]byte{encodeRecord(kindIntentRuns, 1, b, slot)})
						}
						name := fmt.Sprintf("erase=%d slot=%d singles=%d runs=%dx%d: %d slots with runs, %d without", eraseSize, slot, singles, runs, runLen, withRuns, all)
						require.Equal(t, withRuns < all, useRuns(&sb, entries, s, rs), name)
					}
				}
			}
		}
	}
}
