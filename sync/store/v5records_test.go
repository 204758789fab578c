package store

import (
	"crypto/sha256"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// v5Chunk is the chunk the version 5 replay table puts in block b: check
// b, digest SHA-256 of byte b (as faults/reference's chunkAt).
func v5Chunk(b uint32) Chunk {
	return Chunk{Block: b, Check: uint64(byte(b)), Digest: sha256.Sum256([]byte{byte(b)})}
}

// v5Base is the committed state of the version 5 replay table (as
// faults/reference's replayBase): generation 5, type 1 of 5000 bytes at
// phase 32 in data blocks 0 and 1, type 2 of 100 bytes in block 4.
func v5Base() State {
	ts := func(t uint8, size int64, blocks ...uint32) TypeState {
		x := TypeState{Type: t, Phase: 32, Size: size}
		for _, b := range blocks {
			x.Chunks = append(x.Chunks, v5Chunk(b))
		}
		x.Digest = payloadDigestOf(size, x.Chunks)
		return x
	}
	return State{Generation: 5, Config: Config{Types: []uint8{1, 2}, Interval: time.Minute, Threshold: time.Second},
		Types: []TypeState{ts(1, 5000, 0, 1), ts(2, 100, 4)}}
}

// TestVersion5RecordsReplay applies intent-deltas-5 and intent-runs
// records (docs/FORMAT.md, Record kinds and Deltas) to v5Base in a store
// of format version 5 (or 4) and requires each sequence to break at the
// record the table names, or not at all. The same table is in
// faults/reference's TestVersion5RecordsReplay: the two readers must
// agree (the reference accepted an intent-deltas record without entries
// naming a block past the data area, which the store refuses).
func TestVersion5RecordsReplay(t *testing.T) {
	base := v5Base()
	m1 := base.Types[0].clone() // type 1 chunk 1 moves to block 2
	m1.Chunks[1] = v5Chunk(2)
	m1.Digest = payloadDigestOf(m1.Size, m1.Chunks)
	intentOf := func(p int) record {
		var e enc
		e.u64(6)
		e.u16(uint16(p))
		e.u32(7)
		e.u32(0)
		e.config(Config{Types: []uint8{1, 2}})
		e.u8(1)
		e.typeMeta(&m1, len(m1.Chunks))
		return record{kind: kindIntent, body: e.buf}
	}
	in1, in2 := intentOf(1), intentOf(2)
	type run struct {
		typ          uint8
		first, block uint32
		n            uint16
		entries      int
	}
	runs := func(r ...run) record {
		var e enc
		e.u64(6)
		e.u16(uint16(len(r)))
		for _, x := range r {
			e.u8(x.typ)
			e.u32(x.first)
			e.u32(x.block)
			e.u16(x.n)
			for k := range x.entries {
				c := v5Chunk(x.block + uint32(k))
				e.u64(c.Check)
				e.raw(c.Digest[:])
			}
		}
		return record{kind: kindIntentRuns, body: e.buf}
	}
	chunks := func(entries ...IntentEntry) record {
		var e enc
		e.u64(6)
		e.u16(uint16(len(entries)))
		for _, x := range entries {
			e.u8(x.Type)
			e.u32(x.Index)
			e.u32(x.Block)
			e.u64(x.Check)
			e.raw(x.Digest[:])
		}
		return record{kind: kindIntentChunk, body: e.buf}
	}
	deltas5 := func(block uint32, entries ...[3]uint32) record {
		var e enc
		e.u64(6)
		e.u32(block)
		e.u16(uint16(len(entries)))
		for _, x := range entries {
			e.u8(uint8(x[0]))
			e.u32(x[1])
			e.u16(uint16(x[2]))
			e.u64(0)
			e.raw(make([]byte, DigestSize))
		}
		return record{kind: kindIntentDeltas5, body: e.buf}
	}
	commit := func(p int) record {
		st := State{Generation: 6, Config: Config{Types: []uint8{1, 2}, Interval: time.Minute}, ImageVersion: "1.0.0"}
		return record{kind: kindCommit, body: encodeCommit(10, p, &st)}
	}
	c2 := v5Chunk(2)
	tests := []struct {
		name    string
		version uint32
		records []record
		breaks  int // index of the record that breaks, -1 if none
	}{
		{"a round listed as a run", 5, []record{in1, runs(run{1, 1, 2, 1, 1}), commit(1)}, -1},
		{"an intent-runs record without runs", 5, []record{in2, runs(), runs(run{1, 1, 2, 1, 1}), commit(2)}, -1},
		{"an intent-runs record in a version 4 store", 4, []record{in1, runs(run{1, 1, 2, 1, 1})}, 1},
		{"a run whose blocks pass the data area's end", 5, []record{in1, runs(run{1, 0, 99, 2, 2})}, 1},
		{"a run that starts past the data area", 5, []record{in1, runs(run{1, 1, 100, 1, 1})}, 1},
		{"a run over a committed block", 5, []record{in1, runs(run{1, 0, 3, 2, 2})}, 1},
		{"a run past the type's new count", 5, []record{in1, runs(run{1, 1, 2, 2, 2})}, 1},
		{"a run of no entries", 5, []record{in1, runs(run{1, 1, 2, 0, 0})}, 1},
		{"a run of spares", 5, []record{in1, runs(run{SpareType, 0, 2, 1, 1})}, 1},
		{"a run announcing more entries than the body holds", 5, []record{in1, runs(run{1, 1, 2, math.MaxUint16, 1})}, 1},
		{"a run whose indices pass 2^32-1", 5, []record{in1, runs(run{1, math.MaxUint32, 2, 2, 2})}, 1},
		{"a run naming a chunk an intent-chunks entry named", 5, []record{in2, chunks(IntentEntry{Type: 1, Index: 1, Block: 2, Check: c2.Check, Digest: c2.Digest}), runs(run{1, 1, 3, 1, 1})}, 2},
		{"a run naming a block an intent-chunks entry named", 5, []record{in2, chunks(IntentEntry{Type: SpareType, Block: 2}), runs(run{1, 1, 2, 1, 1})}, 2},
		{"compact deltas in a version 4 store", 4, []record{in2, deltas5(10, [3]uint32{1, 0, 30})}, 1},
		{"compact deltas with no entries", 5, []record{in2, deltas5(10)}, -1},
		{"compact deltas with no entries in a block past the data area", 5, []record{in2, deltas5(100)}, 1},
		{"compact deltas with no entries in a committed block", 5, []record{in2, deltas5(4)}, 1},
		{"compact deltas whose records pass the block's end", 5, []record{in2, deltas5(10, [3]uint32{1, 0, 4000}, [3]uint32{2, 0, 97})}, 1},
		{"compact deltas whose records end at the block's end", 5, []record{in2, deltas5(10, [3]uint32{1, 0, 4000}, [3]uint32{1, 1, 96})}, -1},
		{"a compact delta record shorter than 10 bytes", 5, []record{in2, deltas5(10, [3]uint32{1, 0, 9})}, 1},
		{"a compact delta record of 10 bytes", 5, []record{in2, deltas5(10, [3]uint32{1, 0, 10})}, -1},
		{"compact deltas in a block the intent's run named", 5, []record{in2, runs(run{1, 1, 2, 1, 1}), deltas5(2, [3]uint32{1, 0, 30})}, 2},
		// The store checked the delta entries' chunks at the commit only
		// (the state before it then held the delta record); FORMAT 4.14
		// and the reference refuse the delta record.
		{"compact deltas of the chunk the intent's run named", 5, []record{in2, runs(run{1, 0, 2, 1, 1}), deltas5(10, [3]uint32{1, 0, 30}), commit(2)}, 2},
		{"a run naming the chunk of an earlier compact delta", 5, []record{in2, deltas5(10, [3]uint32{1, 0, 30}), runs(run{1, 0, 2, 1, 1})}, 2},
		{"compact deltas naming one chunk twice", 5, []record{in2, deltas5(10, [3]uint32{1, 0, 30}, [3]uint32{1, 0, 30})}, 1},
		{"compact deltas of a type the intent does not change", 5, []record{in2, deltas5(10, [3]uint32{2, 0, 30})}, 1},
		{"compact deltas beyond the new count", 5, []record{in2, deltas5(10, [3]uint32{1, 2, 30})}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const nb = 100
			s := &Store{layout: Superblock{Version: tt.version, DataBlocks: nb, EraseSize: 4096}, committed: v5Base(),
				erased: newBlockSet(nb), blank: newBlockSet(nb)}
			for i, r := range tt.records {
				r.seq = 10 + uint64(i)
				err := s.apply(r)
				if i == tt.breaks {
					require.ErrorIs(t, err, ErrCorrupt, "record %d applies", i)
					return
				}
				require.NoError(t, err, "record %d", i)
			}
			require.Equal(t, -1, tt.breaks, "nothing broke")
		})
	}
}
