package reference

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// Deltas (format version 3, docs/FORMAT.md 4.14): a chunk committed as a
// delta record over its base block, the records packed in delta blocks.

const (
	deltaVersion  = 3
	deltaMagic    = 0x33444D43 // "CMD3"
	deltaHeadSize = 20         // magic, type, reserved, runs, index, generation
	deltaMinLen   = deltaHeadSize + 4
	// Format version 5: the compact framing (tag 0xD5, type, u32 index,
	// runs to the end, CRC) and compact intent-deltas entries.
	compactVersion  = 5
	compactTag      = 0xD5
	compactHeadSize = 6
	compactMinLen   = compactHeadSize + 4
	deltaMaxErase   = 1 << 16 // run offsets are u16
	// Delta records per chunk: 8 in a format version 3 store, 32 from
	// version 4 on (the only change version 4 made).
	deltaMaxChainV3 = 8
	deltaMaxChainV4 = 32
	chainVersion    = 4
)

// maxChain returns how many delta records a chunk of a store of format
// version v may have.
func maxChain(v uint32) int {
	if v >= chainVersion {
		return deltaMaxChainV4
	}
	return deltaMaxChainV3
}

// ErrDelta: a delta record is not what its chunk's entry says (magic,
// CRC, type, index, runs).
var ErrDelta = errors.New("bad delta record")

// minRecord returns the shortest delta record a store of format version v
// may name.
func minRecord(v uint32) uint32 {
	if v >= compactVersion {
		return compactMinLen
	}
	return deltaMinLen
}

// ApplyDelta checks the delta record rec of chunk index of type typ and
// applies it to p, the chunk's bytes read from its base block. A record
// whose first byte is 0xD5 is compact (format version 5): u8 0xD5, u8
// type, u32 chunk index, runs up to 4 bytes before its end, u32 CRC-32C
// of everything before. Any other is a version 3 record: u32 magic
// "CMD3", u8 type, u8 0, u16 n, u32 chunk index, u64 generation, n × (u16
// offset, u8 length − 1, length bytes), u32 CRC-32C of everything before.
// Either way each run lies inside p and nothing follows the last run.
func ApplyDelta(rec []byte, typ uint8, index uint32, p []byte) error {
	le := binary.LittleEndian
	if len(rec) >= compactMinLen && rec[0] == compactTag {
		body, sum := rec[:len(rec)-4], le.Uint32(rec[len(rec)-4:])
		switch {
		case crc32c(body) != sum:
			return fmt.Errorf("%w: bad crc", ErrDelta)
		case body[1] != typ || le.Uint32(body[2:]) != index:
			return fmt.Errorf("%w: it is type %d chunk %d's, want type %d chunk %d", ErrDelta, body[1], le.Uint32(body[2:]), typ, index)
		}
		return runs(body[compactHeadSize:], -1, p)
	}
	if len(rec) < deltaMinLen {
		return fmt.Errorf("%w: %d bytes", ErrDelta, len(rec))
	}
	body, sum := rec[:len(rec)-4], le.Uint32(rec[len(rec)-4:])
	switch {
	case le.Uint32(body) != deltaMagic:
		return fmt.Errorf("%w: bad magic", ErrDelta)
	case crc32c(body) != sum:
		return fmt.Errorf("%w: bad crc", ErrDelta)
	case body[4] != typ || le.Uint32(body[8:]) != index:
		return fmt.Errorf("%w: it is type %d chunk %d's, want type %d chunk %d", ErrDelta, body[4], le.Uint32(body[8:]), typ, index)
	case body[5] != 0:
		return fmt.Errorf("%w: reserved byte %#x", ErrDelta, body[5])
	}
	return runs(body[deltaHeadSize:], int(le.Uint16(body[6:])), p)
}

// runs applies n runs from q to p (n < 0: runs until q is used up), all
// or none of them.
func runs(q []byte, n int, p []byte) error {
	le := binary.LittleEndian
	out := slices.Clone(p)
	for k := 0; n < 0 && len(q) > 0 || k < n; k++ {
		if len(q) < 3 {
			return fmt.Errorf("%w: run %d of %d truncated", ErrDelta, k, n)
		}
		off, l := int(le.Uint16(q)), int(q[2])+1
		q = q[3:]
		if l > len(q) || off+l > len(out) {
			return fmt.Errorf("%w: run %d: %d bytes at %d, a %d-byte chunk and %d bytes left", ErrDelta, k, l, off, len(out), len(q))
		}
		copy(out[off:], q[:l])
		q = q[l:]
	}
	if len(q) != 0 {
		return fmt.Errorf("%w: %d bytes after the last run", ErrDelta, len(q))
	}
	copy(p, out)
	return nil
}

// checkDeltaPlace checks a delta record's place: a format version 3 store
// of chunks of at most 64 KiB, a block of the data area, the record at
// least a header long and inside the block.
func (sb *Superblock) checkDeltaPlace(d DeltaRef) error {
	switch {
	case sb.FormatVersion < deltaVersion:
		return fmt.Errorf("a delta in a format version %d store", sb.FormatVersion)
	case sb.EraseSize > deltaMaxErase:
		return fmt.Errorf("a delta in a store of %d-byte chunks", sb.EraseSize)
	case d.Block >= sb.DataBlocks:
		return fmt.Errorf("delta block %d, the data area has %d", d.Block, sb.DataBlocks)
	case d.Len < minRecord(sb.FormatVersion) || int64(d.Off)+int64(d.Len) > sb.EraseSize:
		return fmt.Errorf("delta record at %d+%d in a %d-byte block", d.Off, d.Len, sb.EraseSize)
	}
	return nil
}

// intentDeltas: u64 generation, u32 delta block, u16 c, c × (u8 type, u32
// chunk index, u32 offset, u32 length, u64 check, 32 bytes digest); in a
// compact record (kind 0x18, format version 5) an entry is u8 type, u32
// chunk index, u16 length, u64 check, 32 bytes digest, and its record
// starts where the one before ends (the first at offset 0). P must
// exist with the same generation and expect more chunk records; the block
// is outside the committed state and not named before by P; each entry
// names a type of P and a chunk P did not name before, which has a base:
// the committed state holds the type at the same phase and the chunk.
func (r *replayer) intentDeltas(body []byte, compact bool) *broken {
	sb := &r.b.Superblock
	kind := KindIntentDeltas
	if compact {
		kind = KindIntentDeltas5
	}
	if sb.FormatVersion < deltaVersion || compact && sb.FormatVersion < compactVersion {
		return precondition("an %v record in a format version %d store", kind, sb.FormatVersion)
	}
	f := fields{buf: body}
	gen := f.u64()
	d := DeltaBlock{Block: f.u32()}
	c := f.u16()
	at := uint32(0)
	for range c {
		e := DeltaEntry{Type: f.u8(), Index: f.u32()}
		if compact {
			e.Off, e.Len = at, uint32(f.u16())
			at += e.Len
		} else {
			e.Off, e.Len = f.u32(), f.u32()
		}
		e.Check, e.Digest = f.u64(), f.digest()
		if f.err != nil {
			break
		}
		if err := sb.checkDeltaPlace(DeltaRef{Block: d.Block, Off: e.Off, Len: e.Len}); err != nil {
			f.fail("%v", err)
			break
		}
		d.Entries = append(d.Entries, e)
	}
	if err := f.end(); err != nil {
		return malformed(err)
	}
	// The block's place is checked whatever its entries: a record with
	// none still names the block (FORMAT 4.14: "the delta block in the
	// data area"), and deltas exist only in stores of chunks of at most
	// 64 KiB.
	switch {
	case d.Block >= sb.DataBlocks:
		return malformed(fmt.Errorf("delta block %d, the data area has %d", d.Block, sb.DataBlocks))
	case sb.EraseSize > deltaMaxErase:
		return malformed(fmt.Errorf("a delta block in a store of %d-byte chunks", sb.EraseSize))
	}
	p := r.b.Pending
	switch {
	case p == nil:
		return precondition("intent-deltas of generation %d without a pending intent", gen)
	case gen != p.Generation:
		return precondition("intent-deltas of generation %d, the pending intent's is %d", gen, p.Generation)
	case p.RecordsSeen >= int(p.ChunkRecords):
		return precondition("intent-deltas record %d, the intent announced %d", p.RecordsSeen+1, p.ChunkRecords)
	case r.committed[d.Block]:
		return precondition("the intent names delta block %d, which the committed state holds", d.Block)
	case r.intentBlocks[d.Block]:
		return precondition("the intent names data block %d twice", d.Block)
	}
	for _, e := range d.Entries {
		i := slices.IndexFunc(p.Types, func(m TypeMeta) bool { return m.Type == e.Type })
		if i < 0 {
			return precondition("a delta of type %d, which the intent does not change", e.Type)
		}
		if e.Index >= p.Types[i].ChunkCount {
			return precondition("a delta of type %d chunk %d, the type's new count is %d", e.Type, e.Index, p.Types[i].ChunkCount)
		}
		old, ok := r.b.Committed.Type(e.Type)
		if !ok || old.Phase != p.Types[i].Phase || int(e.Index) >= len(old.Chunks) {
			return precondition("a delta of type %d chunk %d, which has no committed base at phase %d", e.Type, e.Index, p.Types[i].Phase)
		}
		if n := len(old.Chunks[e.Index].Deltas); n >= maxChain(sb.FormatVersion) {
			return precondition("a delta of type %d chunk %d, which has %d already (at most %d)", e.Type, e.Index, n, maxChain(sb.FormatVersion))
		}
		k := [2]uint32{uint32(e.Type), e.Index}
		if r.intentChunks[k] {
			return precondition("type %d chunk %d is named twice", e.Type, e.Index)
		}
		r.intentChunks[k] = true
	}
	r.intentBlocks[d.Block] = true
	r.b.nameBlock(d.Block)
	p.Deltas = append(p.Deltas, d)
	p.RecordsSeen++
	return nil
}

// deltasRecord applies one checkpoint-deltas body (format version 3,
// after every checkpoint-chunks record): u64 epoch, u16 c, c × (u8 type,
// u32 chunk index, u32 delta block, u32 offset, u32 length). Each entry
// names a chunk of the checkpoint (appending to its chain of delta
// records, in order, at most maxChain) and a delta block that holds no
// chunk.
func (cf *chunkFill) deltasRecord(body []byte, epoch uint64) error {
	f := fields{buf: body}
	e, c := f.u64(), f.u16()
	if f.err != nil {
		return f.err
	}
	if e != epoch {
		return fmt.Errorf("epoch %d, the checkpoint's is %d", e, epoch)
	}
	for range c {
		typ, idx := f.u8(), f.u32()
		d := DeltaRef{Block: f.u32(), Off: f.u32(), Len: f.u32()}
		if f.err != nil {
			break
		}
		ti := slices.IndexFunc(cf.types, func(t TypeState) bool { return t.Type == typ })
		switch {
		case ti < 0 || int64(idx) >= int64(len(cf.types[ti].Chunks)):
			return fmt.Errorf("a delta of type %d chunk %d, which the checkpoint does not map", typ, idx)
		case len(cf.types[ti].Chunks[idx].Deltas) >= maxChain(cf.sb.FormatVersion):
			return fmt.Errorf("type %d chunk %d has more than %d deltas", typ, idx, maxChain(cf.sb.FormatVersion))
		case cf.used[d.Block]:
			return fmt.Errorf("type %d chunk %d: delta block %d holds a chunk", typ, idx, d.Block)
		}
		if err := cf.sb.checkDeltaPlace(d); err != nil {
			return fmt.Errorf("type %d chunk %d: %w", typ, idx, err)
		}
		ch := &cf.types[ti].Chunks[idx]
		ch.Deltas = append(ch.Deltas, d)
	}
	return f.end()
}
