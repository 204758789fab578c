package reference

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// A checkpoint of epoch 3 for the replayBase state: type 1 (chunks in
// blocks 0 and 1), type 2 (block 4).
type cpSpec struct {
	cursor  uint32
	metas   []TypeMeta
	records []testRecord // the chunk records
	r       uint32       // announced chunk records
	end     *testRecord
}

func cpChunks(epoch uint64, t uint8, first uint32, chunks ...Chunk) testRecord {
	w := (&enc{}).u64(epoch).u8(t).u32(first).u16(uint16(len(chunks)))
	for _, c := range chunks {
		w.u32(c.Block).u64(c.Check).digest(c.Digest)
	}
	return testRecord{KindCheckpointChunks, w.buf}
}

func cpEnd(epoch uint64, r uint32) testRecord {
	return testRecord{KindCheckpointEnd, (&enc{}).u64(epoch).u32(r).buf}
}

func (s cpSpec) frames() []located {
	w := (&enc{}).u64(3).head(Head{Generation: 5}).u8(0).u32(s.cursor).u32(0).u8(uint8(len(s.metas)))
	for _, m := range s.metas {
		w.meta(m)
	}
	w.u32(s.r)
	fs := []located{{frame: frame{kind: KindCheckpointBegin, seq: 1, body: w.buf}}}
	for i, rec := range s.records {
		fs = append(fs, located{frame: frame{kind: rec.kind, seq: uint64(2 + i), body: rec.body}})
	}
	if s.end != nil {
		fs = append(fs, located{frame: frame{kind: s.end.kind, seq: uint64(2 + len(s.records)), body: s.end.body}})
	}
	return fs
}

// TestCheckpointRules checks docs/FORMAT.md 4.6 step 4 on synthetic
// checkpoints: each one breaks one rule.
func TestCheckpointRules(t *testing.T) {
	base := replayBase()
	t1, t2 := base.Committed.Types[0], base.Committed.Types[1]
	metas := []TypeMeta{t1.TypeMeta, t2.TypeMeta}
	good := []testRecord{cpChunks(3, 1, 0, t1.Chunks...), cpChunks(3, 2, 0, t2.Chunks...)}
	end := cpEnd(3, 2)
	split := []testRecord{cpChunks(3, 1, 0, t1.Chunks[0]), cpChunks(3, 1, 1, t1.Chunks[1]), cpChunks(3, 2, 0, t2.Chunks...)}
	end3 := cpEnd(3, 3)
	badDigest := t2.TypeMeta
	badDigest.Digest[0] ^= 1
	tests := []struct {
		name       string
		spec       cpSpec
		incomplete bool
		err        string // "" if the checkpoint is good
	}{
		{"good", cpSpec{metas: metas, records: good, r: 2, end: &end}, false, ""},
		{"a type in two records", cpSpec{metas: metas, records: split, r: 3, end: &end3}, false, ""},
		{"no end", cpSpec{metas: metas, records: good, r: 2}, true, "no checkpoint-end"},
		{"fewer chunk records", cpSpec{metas: metas, records: good[:1], r: 2}, true, "1 of 2"},
		{"end with another count", cpSpec{metas: metas, records: good, r: 2, end: &end3}, false, "the begin 3 and 2"},
		{"end of another epoch", cpSpec{metas: metas, records: good, r: 2, end: &testRecord{KindCheckpointEnd, (&enc{}).u64(4).u32(2).buf}}, false, "epoch 4"},
		{"a record of another kind", cpSpec{metas: metas, records: []testRecord{good[0], purgedRec(1, 1)}, r: 2, end: &end}, false, "want checkpoint-chunks"},
		{"chunks of another epoch", cpSpec{metas: metas, records: []testRecord{cpChunks(2, 1, 0, t1.Chunks...), good[1]}, r: 2, end: &end}, false, "epoch 2"},
		{"chunks of an unlisted type", cpSpec{metas: metas, records: []testRecord{good[0], cpChunks(3, 3, 0, t2.Chunks...)}, r: 2, end: &end}, false, "does not list"},
		{"a later type first", cpSpec{metas: metas, records: []testRecord{good[1], good[0]}, r: 2, end: &end}, false, "before type 1's are complete"},
		{"a type after a later one", cpSpec{metas: metas, records: []testRecord{good[0], good[1], cpChunks(3, 1, 2)}, r: 3, end: &end3}, false, "after those of a later type"},
		{"a type left incomplete", cpSpec{metas: metas, records: []testRecord{split[0], split[2]}, r: 2, end: &end}, false, "before type 1's are complete"},
		{"the last type left incomplete", cpSpec{metas: metas, records: []testRecord{split[0], split[1]}, r: 2, end: &end}, false, "maps 0 of its 1"},
		{"chunk indices out of order", cpSpec{metas: metas, records: []testRecord{split[1], split[0], split[2]}, r: 3, end: &end3}, false, "first chunk index 1, expected 0"},
		{"more chunks than the type has", cpSpec{metas: metas, records: []testRecord{cpChunks(3, 1, 0, append(t1.Chunks, chunkAt(7, 7))...), good[1]}, r: 2, end: &end}, false, "the type has 2"},
		{"a type without its chunks", cpSpec{metas: metas, records: good[:1], r: 1, end: &testRecord{KindCheckpointEnd, (&enc{}).u64(3).u32(1).buf}}, false, "maps 0 of its 1"},
		{"a block holding two chunks", cpSpec{metas: metas, records: []testRecord{good[0], cpChunks(3, 2, 0, chunkAt(1, 4))}, r: 2, end: &end}, false, "holds two chunks"},
		{"a block outside the data area", cpSpec{metas: metas, records: []testRecord{good[0], cpChunks(3, 2, 0, chunkAt(100, 4))}, r: 2, end: &end}, false, "data area has 100"},
		{"a payload digest not of its chunks", cpSpec{metas: []TypeMeta{t1.TypeMeta, badDigest}, records: good, r: 2, end: &end}, false, "payload digest"},
		{"a cursor outside the data area", cpSpec{cursor: 100, metas: metas, records: good, r: 2, end: &end}, false, "allocation cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cp, err := readCheckpoint(tt.spec.frames(), &base.Superblock)
			if tt.err == "" {
				require.NoError(t, err)
				require.Equal(t, base.Committed.Types, cp.state.Types)
				require.Equal(t, len(tt.spec.records)+2, cp.records)
				return
			}
			require.ErrorContains(t, err, tt.err)
			require.Equal(t, tt.incomplete, errors.Is(err, errIncomplete), "%v", err)
		})
	}
}
