package reference

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// deltas5Rec returns an intent-deltas-5 body: generation, delta block and
// entries (type, index, length; check and digest zero).
func deltas5Rec(gen uint64, block uint32, entries ...[3]uint32) testRecord {
	w := (&enc{}).u64(gen).u32(block).u16(uint16(len(entries)))
	for _, e := range entries {
		w.u8(uint8(e[0])).u32(e[1]).u16(uint16(e[2])).u64(0).digest(Digest{})
	}
	return testRecord{KindIntentDeltas5, w.buf}
}

// testRun is one run of an intent-runs record: n announced, entries
// written (check and digest of chunkAt(block, tag) for entry k, tag the
// block's low byte).
type testRun struct {
	typ          uint8
	first, block uint32
	n            uint16
	entries      int
}

func runsRec(gen uint64, runs ...testRun) testRecord {
	w := (&enc{}).u64(gen).u16(uint16(len(runs)))
	for _, r := range runs {
		w.u8(r.typ).u32(r.first).u32(r.block).u16(r.n)
		for k := range r.entries {
			c := chunkAt(r.block+uint32(k), byte(r.block+uint32(k)))
			w.u64(c.Check).digest(c.Digest)
		}
	}
	return testRecord{KindIntentRuns, w.buf}
}

// TestVersion5RecordsReplay applies intent-deltas-5 and intent-runs
// records (docs/FORMAT.md 4.3 and 4.14) to replayBase in a store of
// format version 5 (or 4) and requires each sequence to break at the
// record the table names, or not at all. The same table is in
// sync/store's TestVersion5RecordsReplay: the two readers must agree.
func TestVersion5RecordsReplay(t *testing.T) {
	base := replayBase()
	t1 := base.Committed.Types[0]
	m1 := withChunk(t1, 1, chunkAt(2, 2)) // type 1 chunk 1 moves to block 2
	in1 := intentRec(6, 1, m1)
	in2 := intentRec(6, 2, m1)
	tests := []struct {
		name    string
		version uint32
		records []testRecord
		breaks  int // index of the record that breaks, -1 if none
	}{
		{"a round listed as a run", 5, []testRecord{in1, runsRec(6, testRun{1, 1, 2, 1, 1}), commitRec(10, 1, 6)}, -1},
		{"an intent-runs record without runs", 5, []testRecord{in2, runsRec(6), runsRec(6, testRun{1, 1, 2, 1, 1}), commitRec(10, 2, 6)}, -1},
		{"an intent-runs record in a version 4 store", 4, []testRecord{in1, runsRec(6, testRun{1, 1, 2, 1, 1})}, 1},
		{"a run whose blocks pass the data area's end", 5, []testRecord{in1, runsRec(6, testRun{1, 0, 99, 2, 2})}, 1},
		{"a run that starts past the data area", 5, []testRecord{in1, runsRec(6, testRun{1, 1, 100, 1, 1})}, 1},
		{"a run over a committed block", 5, []testRecord{in1, runsRec(6, testRun{1, 0, 3, 2, 2})}, 1},
		{"a run past the type's new count", 5, []testRecord{in1, runsRec(6, testRun{1, 1, 2, 2, 2})}, 1},
		{"a run of no entries", 5, []testRecord{in1, runsRec(6, testRun{1, 1, 2, 0, 0})}, 1},
		{"a run of spares", 5, []testRecord{in1, runsRec(6, testRun{SpareType, 0, 2, 1, 1})}, 1},
		{"a run announcing more entries than the body holds", 5, []testRecord{in1, runsRec(6, testRun{1, 1, 2, math.MaxUint16, 1})}, 1},
		{"a run whose indices pass 2^32-1", 5, []testRecord{in1, runsRec(6, testRun{1, math.MaxUint32, 2, 2, 2})}, 1},
		{"a run naming a chunk an intent-chunks entry named", 5, []testRecord{in2, chunksRec(6, entryOf(1, 1, chunkAt(2, 2))), runsRec(6, testRun{1, 1, 3, 1, 1})}, 2},
		{"a run naming a block an intent-chunks entry named", 5, []testRecord{in2, chunksRec(6, IntentEntry{Type: SpareType, Block: 2}), runsRec(6, testRun{1, 1, 2, 1, 1})}, 2},
		{"compact deltas in a version 4 store", 4, []testRecord{in2, deltas5Rec(6, 10, [3]uint32{1, 0, 30})}, 1},
		{"compact deltas with no entries", 5, []testRecord{in2, deltas5Rec(6, 10)}, -1},
		{"compact deltas with no entries in a block past the data area", 5, []testRecord{in2, deltas5Rec(6, 100)}, 1},
		{"compact deltas with no entries in a committed block", 5, []testRecord{in2, deltas5Rec(6, 4)}, 1},
		{"compact deltas whose records pass the block's end", 5, []testRecord{in2, deltas5Rec(6, 10, [3]uint32{1, 0, 4000}, [3]uint32{2, 0, 97})}, 1},
		{"compact deltas whose records end at the block's end", 5, []testRecord{in2, deltas5Rec(6, 10, [3]uint32{1, 0, 4000}, [3]uint32{1, 1, 96})}, -1},
		{"a compact delta record shorter than 10 bytes", 5, []testRecord{in2, deltas5Rec(6, 10, [3]uint32{1, 0, 9})}, 1},
		{"a compact delta record of 10 bytes", 5, []testRecord{in2, deltas5Rec(6, 10, [3]uint32{1, 0, 10})}, -1},
		{"compact deltas in a block the intent's run named", 5, []testRecord{in2, runsRec(6, testRun{1, 1, 2, 1, 1}), deltas5Rec(6, 2, [3]uint32{1, 0, 30})}, 2},
		{"compact deltas of the chunk the intent's run named", 5, []testRecord{in2, runsRec(6, testRun{1, 0, 2, 1, 1}), deltas5Rec(6, 10, [3]uint32{1, 0, 30}), commitRec(10, 2, 6)}, 2},
		{"a run naming the chunk of an earlier compact delta", 5, []testRecord{in2, deltas5Rec(6, 10, [3]uint32{1, 0, 30}), runsRec(6, testRun{1, 0, 2, 1, 1})}, 2},
		{"compact deltas naming one chunk twice", 5, []testRecord{in2, deltas5Rec(6, 10, [3]uint32{1, 0, 30}, [3]uint32{1, 0, 30})}, 1},
		{"compact deltas of a type the intent does not change", 5, []testRecord{in2, deltas5Rec(6, 10, [3]uint32{2, 0, 30})}, 1},
		{"compact deltas beyond the new count", 5, []testRecord{in2, deltas5Rec(6, 10, [3]uint32{1, 2, 30})}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := replayBase()
			b.Superblock.FormatVersion = tt.version
			rp := newReplayer(b)
			for i, rec := range tt.records {
				br := rp.apply(located{frame: frame{kind: rec.kind, seq: 10 + uint64(i), body: rec.body}})
				if i == tt.breaks {
					require.NotNil(t, br, "record %d applies", i)
					return
				}
				require.Nil(t, br, "record %d: %v", i, br)
			}
			require.Equal(t, -1, tt.breaks, "nothing broke")
		})
	}
}
