package reference

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCompactIntentDeltas: an intent-deltas-5 record (format version 5)
// places its entries' records one after the other from offset 0 of the
// delta block; it is refused in a version 4 store, and its records must
// be at least 10 bytes (24 for version 3 framing in older stores) and
// end inside the block.
func TestCompactIntentDeltas(t *testing.T) {
	body := func(lens ...uint16) []byte {
		w := (&enc{}).u64(7).u32(3).u16(uint16(len(lens)))
		for k, n := range lens {
			w.u8(1).u32(uint32(k)).u16(n).u64(0).digest(Digest{})
		}
		return w.buf
	}
	tests := []struct {
		name    string
		version uint32
		lens    []uint16
		offs    []uint32
		err     string
	}{
		{"offsets follow the lengths", 5, []uint16{10, 30, 4000}, []uint32{0, 10, 40}, ""},
		{"a version 4 store", 4, []uint16{30}, nil, "format version 4"},
		{"shorter than a compact record", 5, []uint16{9}, nil, "delta record"},
		{"past the block", 5, []uint16{4000, 97}, nil, "delta record"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			types := []TypeMeta{{Type: 1, ChunkCount: 3}}
			b := &Backup{Superblock: Superblock{FormatVersion: tc.version, EraseSize: 4096, DataBlocks: 10},
				Committed: State{Types: []TypeState{{TypeMeta: types[0], Chunks: make([]Chunk, 3)}}},
				Pending:   &Intent{Generation: 7, ChunkRecords: 1, Types: types}}
			r := &replayer{b: b, committed: map[uint32]bool{}, intentBlocks: map[uint32]bool{}, intentChunks: map[[2]uint32]bool{}}
			br := r.intentDeltas(body(tc.lens...), true)
			if tc.err != "" {
				require.NotNil(t, br)
				require.ErrorContains(t, br.err, tc.err)
				return
			}
			require.Nil(t, br)
			require.Len(t, b.Pending.Deltas, 1)
			for k, e := range b.Pending.Deltas[0].Entries {
				require.Equal(t, tc.offs[k], e.Off, "entry %d", k)
				require.Equal(t, uint32(tc.lens[k]), e.Len, "entry %d", k)
			}
		})
	}
}

// TestIntentRunsRecord: an intent-runs record (format version 5) gives
// the pending intent entry k of a run as chunk first+k in block
// first block+k; it is refused in a version 4 store, and a run of
// spares, of no entries or past 2^32 − 1 is malformed.
func TestIntentRunsRecord(t *testing.T) {
	body := func(typ uint8, first, block uint32, n uint16) []byte {
		w := (&enc{}).u64(7).u16(1).u8(typ).u32(first).u32(block).u16(n)
		for k := range n {
			w.u64(uint64(k)).digest(Digest{byte(k)})
		}
		return w.buf
	}
	tests := []struct {
		name    string
		version uint32
		body    []byte
		kind    FindingKind
	}{
		{"a run", 5, body(1, 1, 4, 2), 0},
		{"a version 4 store", 4, body(1, 1, 4, 2), PreconditionBroken},
		{"spares", 5, body(SpareType, 0, 4, 2), BodyMalformed},
		{"no entries", 5, body(1, 1, 4, 0), BodyMalformed},
		{"past 2^32 blocks", 5, body(1, 1, 1<<32-1, 2), BodyMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			types := []TypeMeta{{Type: 1, ChunkCount: 3}}
			b := &Backup{Superblock: Superblock{FormatVersion: tc.version, EraseSize: 4096, DataBlocks: 10},
				Pending: &Intent{Generation: 7, ChunkRecords: 1, Types: types}}
			r := &replayer{b: b, committed: map[uint32]bool{}, intentBlocks: map[uint32]bool{}, intentChunks: map[[2]uint32]bool{}}
			br := r.intentRunsRecord(tc.body)
			if tc.kind != 0 {
				require.NotNil(t, br)
				require.Equal(t, tc.kind, br.kind, "%v", br.err)
				return
			}
			require.Nil(t, br)
			require.Equal(t, []IntentEntry{
				{Type: 1, Index: 1, Block: 4, Check: 0, Digest: Digest{0}},
				{Type: 1, Index: 2, Block: 5, Check: 1, Digest: Digest{1}},
			}, b.Pending.Entries)
		})
	}
}
