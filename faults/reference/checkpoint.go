package reference

import (
	"errors"
	"fmt"
	"slices"
)

// errIncomplete: the journal ends before the checkpoint-end.
var errIncomplete = errors.New("checkpoint incomplete")

// checkpoint is what a complete checkpoint gives (docs/FORMAT.md, 4.6 step
// 4): the committed state, the staged configuration and the allocation
// cursor, under the area's epoch.
type checkpoint struct {
	epoch         uint64
	state         State
	staged        *Config
	cursor, wraps uint32
	records       int // records it spans: begin, r chunk records, end
}

// checkpointBegin decodes a checkpoint-begin body: u64 epoch, state head,
// u8 has staged [+ config], u32 cursor, u32 wraps, u8 t, t × type meta,
// u32 r.
func checkpointBegin(body []byte) (cp checkpoint, metas []TypeMeta, r uint32, err error) {
	f := fields{buf: body}
	cp.epoch = f.u64()
	cp.state.Head = f.head()
	if f.flag("has staged") {
		c := f.config()
		cp.staged = &c
	}
	cp.cursor = f.u32()
	cp.wraps = f.u32()
	metas = f.typeMetas()
	r = f.u32()
	return cp, metas, r, f.end()
}

// readCheckpoint reads the checkpoint at the start of an area's journal:
// begin, exactly r checkpoint-chunks records (type by type in the order of
// the begin's metadata, chunk indices in order), end with the same epoch
// and r. It returns errIncomplete if the journal ends before the end
// record, and any other error for a checkpoint that contradicts itself.
func readCheckpoint(frames []located, sb *Superblock) (checkpoint, error) {
	if len(frames) == 0 || frames[0].kind != KindCheckpointBegin {
		return checkpoint{}, errors.New("the area does not start with a checkpoint-begin")
	}
	cp, metas, r, err := checkpointBegin(frames[0].body)
	if err != nil {
		return cp, fmt.Errorf("checkpoint-begin: %w", err)
	}
	if err := checkHead(&cp.state.Head); err != nil {
		return cp, fmt.Errorf("checkpoint-begin: %w", err)
	}
	if cp.cursor >= sb.DataBlocks {
		return cp, fmt.Errorf("checkpoint-begin: allocation cursor %d, the data area has %d blocks", cp.cursor, sb.DataBlocks)
	}
	fill := &chunkFill{sb: sb, used: make(map[uint32]bool)}
	for _, m := range metas {
		if err := sb.checkMeta(m); err != nil {
			return cp, fmt.Errorf("checkpoint-begin: %w", err)
		}
		fill.types = append(fill.types, TypeState{TypeMeta: m, Chunks: make([]Chunk, 0, m.ChunkCount)})
	}
	deltas := false
	for i := 1; i <= int(r); i++ {
		if i >= len(frames) {
			return cp, fmt.Errorf("%w: %d of %d checkpoint-chunks records", errIncomplete, i-1, r)
		}
		fr := frames[i]
		if fr.kind == KindCheckpointDeltas && !fr.reserved {
			// Format version 3: after every checkpoint-chunks record.
			if sb.FormatVersion < deltaVersion {
				return cp, fmt.Errorf("record %d of the checkpoint (seq %d) is a checkpoint-deltas in a format version %d store", i, fr.seq, sb.FormatVersion)
			}
			deltas = true
			if err := fill.deltasRecord(fr.body, cp.epoch); err != nil {
				return cp, fmt.Errorf("checkpoint-deltas seq %d: %w", fr.seq, err)
			}
			continue
		}
		if deltas {
			return cp, fmt.Errorf("record %d of the checkpoint (seq %d) is a %s after a checkpoint-deltas", i, fr.seq, fr.kind)
		}
		if fr.kind != KindCheckpointChunks || fr.reserved {
			return cp, fmt.Errorf("record %d of the checkpoint (seq %d) is a %s, want checkpoint-chunks", i, fr.seq, fr.kind)
		}
		if err := fill.record(fr.body, cp.epoch); err != nil {
			return cp, fmt.Errorf("checkpoint-chunks seq %d: %w", fr.seq, err)
		}
	}
	end := int(r) + 1
	if end >= len(frames) {
		return cp, fmt.Errorf("%w: no checkpoint-end after %d chunk records", errIncomplete, r)
	}
	if err := checkpointEnd(frames[end], cp.epoch, r); err != nil {
		return cp, err
	}
	for i := range fill.types {
		t := &fill.types[i]
		if len(t.Chunks) != int(t.ChunkCount) {
			return cp, fmt.Errorf("type %d: the checkpoint maps %d of its %d chunks", t.Type, len(t.Chunks), t.ChunkCount)
		}
		if err := checkDigest(t); err != nil {
			return cp, err
		}
	}
	cp.state.Types = fill.types
	sortTypes(cp.state.Types)
	cp.records = end + 1
	return cp, nil
}

// checkpointEnd checks a checkpoint-end: u64 epoch, u32 r, the begin's.
func checkpointEnd(fr located, epoch uint64, r uint32) error {
	if fr.kind != KindCheckpointEnd || fr.reserved {
		return fmt.Errorf("the record after the checkpoint's chunks (seq %d) is a %s, want checkpoint-end", fr.seq, fr.kind)
	}
	f := fields{buf: fr.body}
	e, n := f.u64(), f.u32()
	if err := f.end(); err != nil {
		return fmt.Errorf("checkpoint-end: %w", err)
	}
	if e != epoch || n != r {
		return fmt.Errorf("checkpoint-end says epoch %d and %d chunk records, the begin %d and %d", e, n, epoch, r)
	}
	return nil
}

// chunkFill builds a checkpoint's chunk maps from its chunk records.
type chunkFill struct {
	sb      *Superblock
	types   []TypeState
	current int // index in types of the type being filled
	used    map[uint32]bool
}

// record applies one checkpoint-chunks body: u64 epoch, u8 type, u32 first
// chunk index, u16 c, c × (u32 data block, u64 chunk check, 32 bytes
// digest).
func (cf *chunkFill) record(body []byte, epoch uint64) error {
	f := fields{buf: body}
	e, typ, first, c := f.u64(), f.u8(), f.u32(), f.u16()
	if f.err != nil {
		return f.err
	}
	if e != epoch {
		return fmt.Errorf("epoch %d, the checkpoint's is %d", e, epoch)
	}
	ti := slices.IndexFunc(cf.types, func(t TypeState) bool { return t.Type == typ })
	switch {
	case ti < 0:
		return fmt.Errorf("chunks of type %d, which the checkpoint-begin does not list", typ)
	case ti < cf.current:
		return fmt.Errorf("chunks of type %d after those of a later type", typ)
	}
	for ; cf.current < ti; cf.current++ {
		if t := cf.types[cf.current]; len(t.Chunks) != int(t.ChunkCount) {
			return fmt.Errorf("chunks of type %d before type %d's are complete (%d of %d)", typ, t.Type, len(t.Chunks), t.ChunkCount)
		}
	}
	t := &cf.types[ti]
	if int(first) != len(t.Chunks) {
		return fmt.Errorf("type %d: first chunk index %d, expected %d", typ, first, len(t.Chunks))
	}
	if int64(first)+int64(c) > int64(t.ChunkCount) {
		return fmt.Errorf("type %d: chunks %d..%d, the type has %d", typ, first, int64(first)+int64(c)-1, t.ChunkCount)
	}
	for range c {
		ch := f.chunkEntry()
		if f.err != nil {
			break
		}
		if err := cf.sb.checkBlock(ch.Block, cf.used); err != nil {
			return fmt.Errorf("type %d chunk %d: %w", typ, len(t.Chunks), err)
		}
		t.Chunks = append(t.Chunks, ch)
	}
	return f.end()
}

// checkBlock checks that data block d exists and is not in used, and adds
// it: one chunk per block (docs/FORMAT.md, 4.1).
func (sb *Superblock) checkBlock(d uint32, used map[uint32]bool) error {
	if d >= sb.DataBlocks {
		return fmt.Errorf("data block %d, the data area has %d", d, sb.DataBlocks)
	}
	if used[d] {
		return fmt.Errorf("data block %d holds two chunks", d)
	}
	used[d] = true
	return nil
}

// checkHead checks what a state head's decoder cannot check field by
// field: the group cursor indexes the configuration's types.
func checkHead(h *Head) error {
	if h.GroupNext != 0 && int(h.GroupNext) >= len(h.Config.Types) {
		return fmt.Errorf("group next %d, the configuration has %d types", h.GroupNext, len(h.Config.Types))
	}
	return nil
}

func sortTypes(ts []TypeState) {
	slices.SortFunc(ts, func(a, b TypeState) int { return int(a.Type) - int(b.Type) })
}
