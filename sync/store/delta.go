// Sub-chunk deltas (format version 3): a chunk that changed in a few bytes
// is committed as a delta record — the byte runs where it differs from its
// base (the full copy the committed state holds) — packed with the other
// delta records of the round into delta blocks, instead of a full copy
// (docs/FORMAT.md, Deltas).

package store

import (
	"fmt"
	"slices"
)

// Record kinds of format versions 3 and 5.
const (
	kindCkptDeltas    uint8 = 0x06 // checkpoint-deltas
	kindIntentDeltas  uint8 = 0x17 // intent-deltas
	kindIntentDeltas5 uint8 = 0x18 // intent-deltas, compact (format version 5)
)

// deltaVersion is the first format version with deltas.
const deltaVersion = 3

// DeltaBlockType marks a ChunkWrite that programs one of the round's delta
// blocks rather than a chunk: the store supplies its bytes (Write takes nil
// data) and ChunkWrite.Bytes says how many.
const DeltaBlockType uint8 = 0xFF

// DeltaRef locates a chunk's delta record: data block, byte offset in it
// and length. Len 0: the chunk has no delta (its base block holds it
// whole).
type DeltaRef struct {
	Block, Off, Len uint32
}

// Delta record framing in a delta block (docs/FORMAT.md, Deltas): u32
// magic, u8 type, u8 reserved 0, u16 runs n, u32 chunk index, u64
// generation, n × (u16 offset, u8 length − 1, bytes), u32 CRC-32C of all
// before.
const (
	deltaMagic    uint32 = 0x33444D43 // "CMD3" little-endian
	deltaHead            = 20
	deltaOverhead        = deltaHead + 4
	deltaRunHead         = 3
	deltaMaxRun          = 256
	// deltaMergeGap: two runs closer than this are one run (a run header
	// costs as much as the unchanged bytes between them).
	deltaMergeGap = deltaRunHead
	// deltaMaxChunk: run offsets are u16, so deltas serve chunks of at
	// most 64 KiB (every SPI NOR part; not NAND's large blocks).
	deltaMaxChunk = 1 << 16
	// maxDeltaChainV3 and maxDeltaChain are the most delta records a
	// chunk may have in a format version 3 store and from version 4 on
	// (deltaChainLimit): a reader applies them in order over the base.
	maxDeltaChainV3 = 8
	maxDeltaChain   = 32
)

// chainVersion is the first format version whose chains hold up to
// maxDeltaChain records.
const chainVersion = 4

// Compact delta records (format version 5, docs/FORMAT.md, Deltas): u8
// tag 0xD5, u8 type, u32 chunk index, runs as in version 3 up to the
// record's end, u32 CRC-32C of all before. The journal entry that names
// the record gives its length (so no run count), and the new chunk's
// check and digest (so no generation: a record that is not the one the
// round wrote fails the CRC or the chunk's digest).
const (
	compactVersion = 5
	deltaTag5      = 0xD5
	deltaHead5     = 6
	deltaOverhead5 = deltaHead5 + 4
)

// deltaMinLen returns the shortest delta record a store of format version
// v may name: version 5 records are shorter than version 3 ones.
func deltaMinLen(v uint32) uint32 {
	if v >= compactVersion {
		return deltaOverhead5
	}
	return deltaOverhead
}

// deltaChainLimit returns the most delta records a chunk may have in a
// store of format version v (docs/FORMAT.md, Deltas).
func deltaChainLimit(v uint32) int {
	if v < chainVersion {
		return maxDeltaChainV3
	}
	return maxDeltaChain
}

// deltaEntrySize is the encoded size of one entry of an intent-deltas
// record: u8 type, u32 chunk index, u32 offset, u32 length, u64 check,
// 32 bytes digest. deltaEntrySize5 is that of a compact intent-deltas
// record (format version 5): u8 type, u32 chunk index, u16 length, u64
// check, 32 bytes digest; the records lie one after the other from offset
// 0 of the block, in entry order.
const (
	deltaEntrySize  = 1 + 4 + 4 + 4 + 8 + DigestSize
	deltaEntrySize5 = 1 + 4 + 2 + 8 + DigestSize
)

// ckptDeltaEntrySize is the encoded size of one entry of a
// checkpoint-deltas record: u8 type, u32 chunk index, u32 data block, u32
// offset, u32 length.
const ckptDeltaEntrySize = 1 + 4 + 4 + 4 + 4

// deltaEntry is one chunk an intent-deltas record commits as a delta.
type deltaEntry struct {
	Type   uint8
	Index  uint32
	Off    uint32
	Len    uint32
	Check  uint64
	Digest Digest
}

// deltaBlock is one delta block of an intent: the block and the delta
// records it holds (data: their bytes, for the writer).
type deltaBlock struct {
	block   uint32
	entries []deltaEntry
	data    []byte
}

// deltaEntryBytes returns the size of an intent-deltas entry that a
// writer of format version v writes.
func deltaEntryBytes(v uint32) int64 {
	if v >= compactVersion {
		return deltaEntrySize5
	}
	return deltaEntrySize
}

// deltasPerRecord returns how many entries an intent-deltas record of a
// writer of format version v holds in an erase block of e bytes (one
// record per delta block).
func deltasPerRecord(e int64, v uint32) int {
	return int((e - recordOverhead - 14) / deltaEntryBytes(v))
}

// encodeDelta returns the delta record that turns base into data (equal
// lengths) for chunk index of type t, committed by generation gen, in the
// framing of format version v (compact from version 5 on).
func encodeDelta(v uint32, t uint8, index uint32, gen uint64, base, data []byte) []byte {
	var e enc
	if v >= compactVersion {
		e.u8(deltaTag5)
		e.u8(t)
		e.u32(index)
	} else {
		e.u32(deltaMagic)
		e.u8(t)
		e.u8(0)
		e.u16(0) // runs, below
		e.u32(index)
		e.u64(gen)
	}
	runs := 0
	n := len(data)
	for i := 0; i < n; {
		if base[i] == data[i] {
			i++
			continue
		}
		// A run from i: extend over differences and over gaps shorter than
		// a run header, up to the longest run (deltaMaxRun bytes).
		end := i + 1
		for j := end; j < n && j-i < deltaMaxRun; j++ {
			if base[j] != data[j] {
				end = j + 1
			} else if j-end >= deltaMergeGap {
				break
			}
		}
		e.u16(uint16(i))
		e.u8(uint8(end - i - 1))
		e.raw(data[i:end])
		runs++
		i = end
	}
	if v < compactVersion {
		le.PutUint16(e.buf[6:], uint16(runs))
	}
	e.u32(crc(e.buf))
	return e.buf
}

// applyDelta checks delta record rec (of chunk index of type t) and
// applies it to p, the chunk's bytes read from its base block. Its first
// byte tells its framing: a compact record (tag 0xD5, format version 5)
// or a version 3 one (magic "CMD3"); a store of version 5 holds both.
func applyDelta(rec []byte, t uint8, index uint32, p []byte) error {
	if len(rec) >= deltaOverhead5 && rec[0] == deltaTag5 {
		return applyDelta5(rec, t, index, p)
	}
	if len(rec) < deltaOverhead || le.Uint32(rec) != deltaMagic {
		return fmt.Errorf("%w: delta record: bad magic or length %d", ErrCorrupt, len(rec))
	}
	body := rec[:len(rec)-4]
	if crc(body) != le.Uint32(rec[len(rec)-4:]) {
		return fmt.Errorf("%w: delta record: CRC mismatch", ErrCorrupt)
	}
	if rec[4] != t || rec[5] != 0 || le.Uint32(rec[8:]) != index {
		return fmt.Errorf("%w: delta record of type %d chunk %d, want type %d chunk %d", ErrCorrupt, rec[4], le.Uint32(rec[8:]), t, index)
	}
	return applyRuns(body[deltaHead:], int(le.Uint16(rec[6:])), p)
}

// applyDelta5 checks and applies a compact delta record (format version
// 5): its runs go to the end of the record, before the CRC.
func applyDelta5(rec []byte, t uint8, index uint32, p []byte) error {
	body := rec[:len(rec)-4]
	if crc(body) != le.Uint32(rec[len(rec)-4:]) {
		return fmt.Errorf("%w: delta record: CRC mismatch", ErrCorrupt)
	}
	if rec[1] != t || le.Uint32(rec[2:]) != index {
		return fmt.Errorf("%w: delta record of type %d chunk %d, want type %d chunk %d", ErrCorrupt, rec[1], le.Uint32(rec[2:]), t, index)
	}
	return applyRuns(body[deltaHead5:], -1, p)
}

// applyRuns applies the runs in q to p: runs of them (−1: as many as q
// holds, to its end), each u16 offset, u8 length − 1, that many bytes,
// inside p; nothing may follow the last one.
func applyRuns(q []byte, runs int, p []byte) error {
	for k := 0; runs < 0 && len(q) > 0 || k < runs; k++ {
		if len(q) < deltaRunHead {
			return fmt.Errorf("%w: delta record: runs truncated", ErrCorrupt)
		}
		off, n := int(le.Uint16(q)), int(q[2])+1
		q = q[deltaRunHead:]
		if n > len(q) || off+n > len(p) {
			return fmt.Errorf("%w: delta record: run of %d bytes at %d outside a %d-byte chunk", ErrCorrupt, n, off, len(p))
		}
		copy(p[off:], q[:n])
		q = q[n:]
	}
	if len(q) != 0 {
		return fmt.Errorf("%w: delta record: %d bytes after its runs", ErrCorrupt, len(q))
	}
	return nil
}

// intentDeltasBody encodes an intent-deltas record: u64 generation, u32
// delta block, u16 c, c entries; compact entries (kind 0x18, format
// version 5) when compact, whose records must lie one after the other from
// offset 0 (pack lays them out so).
func intentDeltasBody(gen uint64, db *deltaBlock, compact bool) []byte {
	var b enc
	b.u64(gen)
	b.u32(db.block)
	b.u16(uint16(len(db.entries)))
	for _, x := range db.entries {
		b.u8(x.Type)
		b.u32(x.Index)
		if compact {
			b.u16(uint16(x.Len))
		} else {
			b.u32(x.Off)
			b.u32(x.Len)
		}
		b.u64(x.Check)
		b.raw(x.Digest[:])
	}
	return b.buf
}

// decodeIntentDeltas decodes an intent-deltas record (compact: kind 0x18,
// each entry's offset the end of the one before, from 0).
func decodeIntentDeltas(body []byte, compact bool) (uint64, deltaBlock, error) {
	d := dec{buf: body}
	gen := d.u64()
	db := deltaBlock{block: d.u32()}
	n, size := int(d.u16()), deltaEntrySize
	if compact {
		size = deltaEntrySize5
	}
	if n*size != len(body)-14 {
		return 0, db, fmt.Errorf("%w: intent-deltas record lists %d entries in %d bytes", ErrCorrupt, n, len(body))
	}
	db.entries = make([]deltaEntry, n)
	next := uint32(0)
	for i := range n {
		x := &db.entries[i]
		x.Type, x.Index = d.u8(), d.u32()
		if compact {
			x.Off, x.Len = next, uint32(d.u16())
			next += x.Len
		} else {
			x.Off, x.Len = d.u32(), d.u32()
		}
		x.Check = d.u64()
		x.Digest = d.digest()
	}
	if err := d.end(); err != nil {
		return 0, db, fmt.Errorf("%w: intent-deltas: %v", ErrCorrupt, err)
	}
	return gen, db, nil
}

// applyIntentDeltas replays an intent-deltas record (format version 3): a
// pending intent of the same generation expecting more records; the delta
// block in the data area, outside the committed state and not named
// before by the intent; each entry a type of the intent whose committed
// chunk map has the chunk at the same phase (its base, with room in its
// chain), named once, its record inside the block. The block is no longer
// erased or blank.
func (s *Store) applyIntentDeltas(r record) error {
	compact := r.kind == kindIntentDeltas5
	if s.layout.Version < deltaVersion || compact && s.layout.Version < compactVersion {
		return fmt.Errorf("%w: an %s record in a format version %d store", ErrCorrupt, kindName(r.kind), s.layout.Version)
	}
	in := s.pending
	if in == nil {
		return fmt.Errorf("%w: intent deltas without an intent", ErrCorrupt)
	}
	gen, db, err := decodeIntentDeltas(r.body, compact)
	if err != nil {
		return err
	}
	switch {
	case gen != in.generation:
		return fmt.Errorf("%w: intent deltas for generation %d without its intent", ErrCorrupt, gen)
	case in.partsSeen >= in.parts:
		return fmt.Errorf("%w: intent deltas record %d, the intent announced %d", ErrCorrupt, in.partsSeen+1, in.parts)
	}
	if err := s.checkDeltaBlock(in, &db); err != nil {
		return err
	}
	if c := in.check; c != nil {
		// The entries' preconditions, at this record as the reference
		// decoder and docs/FORMAT.md have them (without a check, an intent
		// listing a type twice, they are found at the commit).
		for _, x := range db.entries {
			if err := c.delta(in, s.committed.Types, x.Type, x.Index, deltaChainLimit(s.layout.Version)); err != nil {
				return err
			}
		}
	}
	in.named.add(db.block)
	s.erased.remove(db.block)
	s.blank.remove(db.block)
	in.deltas = append(in.deltas, db)
	in.partsSeen++
	return nil
}

// checkDeltaBlock checks an intent-deltas record's block and its entries'
// places against the layout and the committed state (see
// applyIntentDeltas, which checks the entries' chunks with the intent's
// check, and the commit again).
func (s *Store) checkDeltaBlock(in *intent, db *deltaBlock) error {
	e := s.layout.EraseSize
	switch {
	case db.block >= s.layout.DataBlocks:
		return fmt.Errorf("%w: intent names delta block %d of %d", ErrCorrupt, db.block, s.layout.DataBlocks)
	case s.liveSet().has(db.block):
		return fmt.Errorf("%w: intent names delta block %d, which the committed generation holds", ErrCorrupt, db.block)
	case in.named.has(db.block):
		return fmt.Errorf("%w: intent names data block %d twice", ErrCorrupt, db.block)
	case e > deltaMaxChunk:
		return fmt.Errorf("%w: an intent-deltas record in a store of %d-byte chunks", ErrCorrupt, e)
	}
	for _, x := range db.entries {
		if x.Len < deltaMinLen(s.layout.Version) || int64(x.Off)+int64(x.Len) > e {
			return fmt.Errorf("%w: delta of type %d chunk %d at %d+%d outside its block", ErrCorrupt, x.Type, x.Index, x.Off, x.Len)
		}
	}
	return nil
}

// applyDeltaEntries applies the delta entries of in to types (the
// committed types with in's new metadata and full entries applied; slot[t]
// is 1 + the index of type t in types, kept[t] how many chunks of its map
// are the committed ones, named[t] the chunks the full entries named).
// A delta entry needs a committed base: a chunk the full entries did not
// name, kept from the committed map, of a type whose phase did not change.
func applyDeltaEntries(in *intent, types []TypeState, slot *[256]int, kept *[256]int, phase *[256]int64, named *[256][]bool, chainLimit int) error {
	for _, db := range in.deltas {
		for _, x := range db.entries {
			k := slot[x.Type]
			if k == 0 {
				return fmt.Errorf("%w: intent writes a delta of type %d it does not describe", ErrCorrupt, x.Type)
			}
			t := &types[k-1]
			switch {
			case int(x.Index) >= len(t.Chunks):
				return fmt.Errorf("%w: intent writes a delta of chunk %d of type %d beyond its %d chunks", ErrCorrupt, x.Index, x.Type, len(t.Chunks))
			case int(x.Index) >= kept[x.Type] || phase[x.Type] != int64(t.Phase):
				return fmt.Errorf("%w: intent writes a delta of chunk %d of type %d, which has no committed base", ErrCorrupt, x.Index, x.Type)
			}
			if named[x.Type] == nil {
				named[x.Type] = make([]bool, len(t.Chunks))
			}
			if named[x.Type][x.Index] {
				return fmt.Errorf("%w: intent writes chunk %d of type %d twice", ErrCorrupt, x.Index, x.Type)
			}
			named[x.Type][x.Index] = true
			c := &t.Chunks[x.Index]
			if len(c.Deltas) >= chainLimit {
				return fmt.Errorf("%w: intent writes delta %d of chunk %d of type %d, at most %d are allowed", ErrCorrupt, len(c.Deltas)+1, x.Index, x.Type, chainLimit)
			}
			ref := DeltaRef{Block: db.block, Off: x.Off, Len: x.Len}
			*c = Chunk{Block: c.Block, Check: x.Check, Digest: x.Digest, Deltas: append(slices.Clip(c.Deltas), ref)}
		}
	}
	return nil
}

// checkpointDeltaRecords encodes the deltas of st's chunks as
// checkpoint-deltas bodies: u64 epoch, u16 c, c entries.
func checkpointDeltaBodies(e int64, epoch uint64, st *State) [][]byte {
	perRec := int((e - recordOverhead - 10) / ckptDeltaEntrySize)
	var bb countedBodies
	for ti := range st.Types {
		t := &st.Types[ti]
		for i, c := range t.Chunks {
			for _, d := range c.Deltas {
				b := bb.entry(epoch)
				b.u8(t.Type)
				b.u32(uint32(i))
				b.u32(d.Block)
				b.u32(d.Off)
				b.u32(d.Len)
				if bb.n == perRec {
					bb.flush()
				}
			}
		}
	}
	return bb.done()
}

// countedBodies builds record bodies that start with a u64 (an epoch or a
// generation) and a u16 count of the entries that follow.
type countedBodies struct {
	out [][]byte
	b   enc
	n   int // entries in b
}

// entry starts an entry of the current body (a new body with head x if
// there is none) and returns the encoder to write it to.
func (c *countedBodies) entry(x uint64) *enc {
	if c.n == 0 {
		c.b = enc{}
		c.b.u64(x)
		c.b.u16(0)
	}
	c.n++
	return &c.b
}

// flush ends the current body, if it has entries.
func (c *countedBodies) flush() {
	if c.n > 0 {
		le.PutUint16(c.b.buf[8:], uint16(c.n))
		c.out = append(c.out, c.b.buf)
	}
	c.b, c.n = enc{}, 0
}

// done ends the current body and returns them all.
func (c *countedBodies) done() [][]byte {
	c.flush()
	return c.out
}

// checkpointDeltas applies one checkpoint-deltas record to st (every
// chunk record came before it): each entry names a chunk of the
// checkpoint without a delta yet, a delta block that holds no chunk
// (bases: the blocks in bases), and a record inside it. It adds the delta
// blocks to deltaBlocks.
func (s *Store) checkpointDeltas(r record, epoch uint64, st *State, bases, deltaBlocks blockSet) error {
	if s.layout.Version < deltaVersion || s.layout.EraseSize > deltaMaxChunk {
		return fmt.Errorf("%w: a checkpoint-deltas record in a format version %d store of %d-byte chunks", ErrCorrupt, s.layout.Version, s.layout.EraseSize)
	}
	d := dec{buf: r.body}
	if d.u64() != epoch {
		return fmt.Errorf("%w: checkpoint deltas record epoch mismatch", ErrCorrupt)
	}
	n := int(d.u16())
	if n*ckptDeltaEntrySize != len(r.body)-10 {
		return fmt.Errorf("%w: checkpoint deltas record %d lists %d entries in %d bytes", ErrCorrupt, r.seq, n, len(r.body))
	}
	for range n {
		typ, idx := d.u8(), d.u32()
		ref := DeltaRef{Block: d.u32(), Off: d.u32(), Len: d.u32()}
		t, ok := st.Type(typ)
		switch {
		case !ok || int64(idx) >= int64(len(t.Chunks)):
			return fmt.Errorf("%w: checkpoint delta of type %d chunk %d, which it does not hold", ErrCorrupt, typ, idx)
		case len(t.Chunks[idx].Deltas) >= deltaChainLimit(s.layout.Version):
			return fmt.Errorf("%w: checkpoint gives type %d chunk %d more than %d deltas", ErrCorrupt, typ, idx, deltaChainLimit(s.layout.Version))
		case ref.Block >= s.layout.DataBlocks || bases.has(ref.Block):
			return fmt.Errorf("%w: checkpoint delta in data block %d, a chunk's block or beyond the data area", ErrCorrupt, ref.Block)
		case ref.Len < deltaMinLen(s.layout.Version) || int64(ref.Off)+int64(ref.Len) > s.layout.EraseSize:
			return fmt.Errorf("%w: checkpoint delta of type %d chunk %d at %d+%d outside its block", ErrCorrupt, typ, idx, ref.Off, ref.Len)
		}
		t.Chunks[idx].Deltas = append(t.Chunks[idx].Deltas, ref)
		deltaBlocks.add(ref.Block)
	}
	return d.end()
}
