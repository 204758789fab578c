package reference

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The committed state the replay tests start from: generation 5, type 1
// with a payload of 5000 bytes at phase 32 (two chunks, in data blocks 0
// and 1) and type 2 with one chunk in data block 4.
func replayBase() *Backup {
	b := &Backup{Superblock: Superblock{EraseSize: 4096, SlotSize: 256, DataBlocks: 100}}
	b.Committed = State{
		Head:  Head{Generation: 5, Config: Config{Types: []uint8{1, 2}, Interval: time.Minute, Threshold: time.Second}},
		Types: []TypeState{typeState(1, 5000, 32, 0, 1), typeState(2, 100, 32, 4)},
	}
	return b
}

func chunkAt(block uint32, tag byte) Chunk {
	return Chunk{Block: block, Check: uint64(tag), Digest: sha256.Sum256([]byte{tag})}
}

// typeState returns type t with chunks in the given blocks (chunk i's
// digest is that of byte block+i) and its payload digest.
func typeState(t uint8, size int64, phase uint32, blocks ...uint32) TypeState {
	ts := TypeState{TypeMeta: TypeMeta{Type: t, Phase: phase, Size: size, ChunkCount: uint32(len(blocks))}}
	for _, b := range blocks {
		ts.Chunks = append(ts.Chunks, chunkAt(b, byte(b)))
	}
	ts.Digest = payloadDigest(size, ts.Chunks)
	return ts
}

// withChunk returns t's metadata after chunk i moves to a new chunk.
func withChunk(t TypeState, i int, c Chunk) TypeMeta {
	chunks := append([]Chunk{}, t.Chunks...)
	for len(chunks) <= i {
		chunks = append(chunks, Chunk{})
	}
	chunks[i] = c
	m := t.TypeMeta
	m.ChunkCount = uint32(len(chunks))
	m.Digest = payloadDigest(m.Size, chunks)
	return m
}

type testRecord struct {
	kind Kind
	body []byte
}

func intentRec(gen uint64, p uint16, metas ...TypeMeta) testRecord {
	w := (&enc{}).u64(gen).u16(p).u32(7).u32(0).config(Config{Types: []uint8{1, 2}})
	w.u8(uint8(len(metas)))
	for _, m := range metas {
		w.meta(m)
	}
	return testRecord{KindIntent, w.buf}
}

func entryOf(t uint8, i uint32, c Chunk) IntentEntry {
	return IntentEntry{Type: t, Index: i, Block: c.Block, Check: c.Check, Digest: c.Digest}
}

func chunksRec(gen uint64, entries ...IntentEntry) testRecord {
	w := (&enc{}).u64(gen).u16(uint16(len(entries)))
	for _, e := range entries {
		w.u8(e.Type).u32(e.Index).u32(e.Block).u64(e.Check).digest(e.Digest)
	}
	return testRecord{KindIntentChunks, w.buf}
}

func commitRec(intentSeq uint64, p uint16, gen uint64) testRecord {
	h := Head{Generation: gen, Config: Config{Types: []uint8{1, 2}, Interval: time.Minute}, ImageVersion: "1.0.0"}
	return testRecord{KindCommit, (&enc{}).u64(intentSeq).u16(p).head(h).buf}
}

func purgedRec(gen, seq uint64) testRecord {
	return testRecord{KindPurged, (&enc{}).u64(gen).u64(seq).buf}
}

// TestReplayPreconditions applies record sequences (sequence numbers 10,
// 11, ... in order) to replayBase and requires each to be applied up to
// the record the table names, which must break with the kind it names
// (docs/FORMAT.md, 4.7).
func TestReplayPreconditions(t *testing.T) {
	base := replayBase()
	t1, t2 := base.Committed.Types[0], base.Committed.Types[1]
	newChunk := chunkAt(2, 0xA2)
	m1 := withChunk(t1, 1, newChunk)            // type 1 chunk 1 moves to block 2
	grown := withChunk(t1, 2, chunkAt(3, 0xA3)) // type 1 gains chunk 2
	grown.Size = 9000
	grown.Digest = payloadDigest(9000, append(append([]Chunk{}, t1.Chunks...), chunkAt(3, 0xA3)))
	spare := IntentEntry{Type: SpareType, Block: 9}
	round := []testRecord{intentRec(6, 1, m1), chunksRec(6, entryOf(1, 1, newChunk), spare), commitRec(10, 1, 6)}
	tests := []struct {
		name    string
		records []testRecord
		breaks  int // index of the record that breaks, -1 if none
		kind    FindingKind
	}{
		{"a round", round, -1, 0},
		{"a round that changed nothing", []testRecord{commitRec(0, 0, 6)}, -1, 0},
		{"chunks without an intent", []testRecord{chunksRec(6, spare)}, 0, PreconditionBroken},
		{"chunks of another generation", []testRecord{intentRec(6, 1, m1), chunksRec(7, spare)}, 1, PreconditionBroken},
		{"more chunk records than announced", []testRecord{intentRec(6, 1, m1), chunksRec(6, spare), chunksRec(6, entryOf(1, 1, newChunk))}, 2, PreconditionBroken},
		{"an entry in a committed block", []testRecord{intentRec(6, 1, m1), chunksRec(6, entryOf(1, 1, chunkAt(4, 1)))}, 1, PreconditionBroken},
		{"a block named twice", []testRecord{intentRec(6, 1, m1), chunksRec(6, entryOf(1, 1, newChunk), IntentEntry{Type: SpareType, Block: 2})}, 1, PreconditionBroken},
		{"an entry of a type the intent does not change", []testRecord{intentRec(6, 1, m1), chunksRec(6, entryOf(2, 0, newChunk))}, 1, PreconditionBroken},
		{"an entry beyond the new count", []testRecord{intentRec(6, 1, m1), chunksRec(6, entryOf(1, 2, newChunk))}, 1, PreconditionBroken},
		{"a chunk named twice", []testRecord{intentRec(6, 1, m1), chunksRec(6, entryOf(1, 1, newChunk), entryOf(1, 1, chunkAt(3, 3)))}, 1, PreconditionBroken},
		{"a spare with a digest", []testRecord{intentRec(6, 1, m1), chunksRec(6, IntentEntry{Type: SpareType, Block: 9, Check: 1})}, 1, BodyMalformed},
		{"a block outside the data area", []testRecord{intentRec(6, 1, m1), chunksRec(6, IntentEntry{Type: SpareType, Block: 100})}, 1, BodyMalformed},
		{"commit of another intent", []testRecord{round[0], round[1], commitRec(11, 1, 6)}, 2, PreconditionBroken},
		{"commit of another generation", []testRecord{round[0], round[1], commitRec(10, 1, 7)}, 2, PreconditionBroken},
		{"commit before the chunk records", []testRecord{round[0], commitRec(10, 1, 6)}, 1, PreconditionBroken},
		{"commit announcing other chunk records", []testRecord{round[0], round[1], commitRec(10, 2, 6)}, 2, PreconditionBroken},
		{"commit of an older generation", []testRecord{commitRec(0, 0, 5)}, 0, PreconditionBroken},
		{"commit without intent while one is pending", []testRecord{round[0], round[1], commitRec(0, 0, 6)}, 2, PreconditionBroken},
		{"commit without intent announcing chunk records", []testRecord{commitRec(0, 1, 6)}, 0, PreconditionBroken},
		{"a new chunk without a block", []testRecord{intentRec(6, 1, grown), chunksRec(6, spare), commitRec(10, 1, 6)}, 2, PreconditionBroken},
		{"a payload digest that is not of its chunks", []testRecord{intentRec(6, 1, withChunk(t1, 1, chunkAt(2, 0xEE))), round[1], commitRec(10, 1, 6)}, 2, PreconditionBroken},
		{"a chunk count that is not of its size", []testRecord{intentRec(6, 0, withChunk(t2, 1, newChunk))}, 0, BodyMalformed},
		{"purged without an intent", []testRecord{purgedRec(6, 10)}, 0, PreconditionBroken},
		{"purged of another intent", []testRecord{round[0], purgedRec(6, 9)}, 1, PreconditionBroken},
		{"purged", []testRecord{round[0], purgedRec(6, 10)}, -1, 0},
		{"a checkpoint after the checkpoint", []testRecord{{KindCheckpointEnd, (&enc{}).u64(1).u32(0).buf}}, 0, PreconditionBroken},
		{"an unknown kind", []testRecord{{Kind(0x99), nil}}, 0, PreconditionBroken},
		{"a config with an undefined flag", []testRecord{{KindConfigStaged, append((&enc{}).config(Config{}).buf[:17], 0x80, 0, 0)}}, 0, BodyMalformed},
		{"a config naming a type twice", []testRecord{{KindConfigStaged, (&enc{}).config(Config{Types: []uint8{3, 3}}).buf}}, 0, BodyMalformed},
		{"a role with a third chip", []testRecord{{KindRole, (&enc{}).role(Role{Active: 2}).buf}}, 0, BodyMalformed},
		{"a body with bytes left over", []testRecord{{KindRole, append((&enc{}).role(Role{}).buf, 0)}}, 0, BodyMalformed},
		{"a short body", []testRecord{{KindPurged, (&enc{}).u64(6).buf}}, 0, BodyMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := replayBase()
			rp := newReplayer(b)
			for i, rec := range tt.records {
				br := rp.apply(located{frame: frame{kind: rec.kind, seq: 10 + uint64(i), body: rec.body}})
				if i == tt.breaks {
					require.NotNil(t, br, "record %d applies", i)
					require.Equal(t, tt.kind, br.kind, "%v", br.err)
					return
				}
				require.Nil(t, br, "record %d: %v", i, br)
			}
			require.Equal(t, -1, tt.breaks, "nothing broke")
		})
	}
}

// TestReplayEffects checks what the transitions leave.
func TestReplayEffects(t *testing.T) {
	apply := func(t *testing.T, b *Backup, recs ...testRecord) {
		t.Helper()
		rp := newReplayer(b)
		for i, rec := range recs {
			require.Nil(t, rp.apply(located{frame: frame{kind: rec.kind, seq: 10 + uint64(i), body: rec.body}}))
		}
	}
	base := replayBase()
	t1 := base.Committed.Types[0]
	c2, c3 := chunkAt(2, 0xA2), chunkAt(3, 0xA3)
	staged := testRecord{KindConfigStaged, (&enc{}).config(Config{Types: []uint8{6}}).buf}

	t.Run("commit replaces the changed type", func(t *testing.T) {
		b := replayBase()
		apply(t, b, staged, intentRec(6, 1, withChunk(t1, 1, c2)), chunksRec(6, entryOf(1, 1, c2), IntentEntry{Block: 9}), commitRec(11, 1, 6))
		require.Equal(t, uint64(6), b.Committed.Generation)
		require.Nil(t, b.Pending)
		require.Nil(t, b.Staged, "a commit clears the staged configuration")
		require.Equal(t, []uint32{0, 2, 4}, b.CommittedBlocks())
		require.Equal(t, uint32(7), b.Cursor)
	})
	t.Run("commit truncates a chunk map", func(t *testing.T) {
		b := replayBase()
		m := t1.TypeMeta
		m.Size, m.ChunkCount = 100, 1
		m.Digest = payloadDigest(100, t1.Chunks[:1])
		apply(t, b, intentRec(6, 0, m), commitRec(10, 0, 6))
		ts, _ := b.Committed.Type(1)
		require.Equal(t, t1.Chunks[:1], ts.Chunks)
	})
	t.Run("a second intent keeps the first's blocks pending", func(t *testing.T) {
		b := replayBase()
		apply(t, b, intentRec(6, 1, withChunk(t1, 1, c2)), chunksRec(6, entryOf(1, 1, c2)),
			intentRec(6, 1, withChunk(t1, 1, c3)), chunksRec(6, entryOf(1, 1, c3)))
		require.Equal(t, []uint32{2, 3}, b.BlocksOfPending())
		require.Equal(t, uint64(12), b.Pending.Seq)
	})
	t.Run("purge drops the intent and the staged configuration", func(t *testing.T) {
		b := replayBase()
		apply(t, b, staged, intentRec(6, 1, withChunk(t1, 1, c2)), chunksRec(6, entryOf(1, 1, c2)), purgedRec(6, 11))
		require.Nil(t, b.Pending)
		require.Nil(t, b.Staged)
		require.Equal(t, []uint32{2}, b.LastPurged.Blocks())
		require.Equal(t, uint64(5), b.Committed.Generation)
	})
	t.Run("role", func(t *testing.T) {
		b := replayBase()
		apply(t, b, testRecord{KindRole, (&enc{}).role(Role{Epoch: 3, Active: 1, RestorePending: true}).buf})
		require.Equal(t, Role{Epoch: 3, Active: 1, RestorePending: true}, b.Committed.Role)
	})
}
