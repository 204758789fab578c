package store

import (
	"fmt"
	"slices"
)

// intentEntrySize is the encoded size of one intent chunk entry: type u8,
// chunk index u32, block u32, check u64, digest.
const intentEntrySize = 1 + 4 + 4 + 8 + DigestSize

// ckptEntrySize is the encoded size of one checkpoint chunk entry: block
// u32, check u64, digest.
const ckptEntrySize = 4 + 8 + DigestSize

// layoutRecords places encoded records one after the other in erase blocks
// of e bytes, never across a block (a record that does not fit starts the
// next block; the rest of the block stays 0xFF). It returns the image and
// the block and offset just after the last record.
func layoutRecords(recs [][]byte, e int64) (img []byte, block, off int64) {
	for _, r := range recs {
		if off+int64(len(r)) > e {
			for int64(len(img)) < (block+1)*e {
				img = append(img, 0xFF)
			}
			block++
			off = 0
		}
		img = append(img, r...)
		off += int64(len(r))
	}
	return img, block, off
}

// checkpointRecords encodes a checkpoint of st (and the staged config, the
// allocation cursor) as records with sequence numbers from seq on.
func checkpointRecords(sb *Superblock, epoch, seq uint64, st *State, staged *Config, cursor, wraps uint32) [][]byte {
	e := sb.EraseSize
	perRec := int((e - recordOverhead - 16) / ckptEntrySize)
	var chunkRecs [][]byte
	for ti := range st.Types {
		t := &st.Types[ti]
		for first := 0; first < len(t.Chunks); first += perRec {
			n := min(perRec, len(t.Chunks)-first)
			var b enc
			b.u64(epoch)
			b.u8(t.Type)
			b.u32(uint32(first))
			b.u16(uint16(n))
			for _, c := range t.Chunks[first : first+n] {
				b.u32(c.Block)
				b.u64(c.Check)
				b.raw(c.Digest[:])
			}
			chunkRecs = append(chunkRecs, b.buf)
		}
	}
	var h enc
	h.u64(epoch)
	h.stateHead(st)
	if staged != nil {
		h.u8(1)
		h.config(*staged)
	} else {
		h.u8(0)
	}
	h.u32(cursor)
	h.u32(wraps)
	h.u8(uint8(len(st.Types)))
	for ti := range st.Types {
		h.typeMeta(&st.Types[ti], len(st.Types[ti].Chunks))
	}
	h.u32(uint32(len(chunkRecs)))
	recs := [][]byte{encodeRecord(kindCkptBegin, seq, h.buf, sb.SlotSize)}
	seq++
	for _, b := range chunkRecs {
		recs = append(recs, encodeRecord(kindCkptChunks, seq, b, sb.SlotSize))
		seq++
	}
	var end enc
	end.u64(epoch)
	end.u32(uint32(len(chunkRecs)))
	recs = append(recs, encodeRecord(kindCkptEnd, seq, end.buf, sb.SlotSize))
	return recs
}

// checkpointImage is checkpointRecords laid out in erase blocks.
func checkpointImage(sb *Superblock, epoch, seq uint64, st *State, staged *Config, cursor, wraps uint32) []byte {
	img, _, _ := layoutRecords(checkpointRecords(sb, epoch, seq, st, staged, cursor, wraps), sb.EraseSize)
	return img
}

// intentRecords encodes a round's intent: the head (generation, cursor,
// config, new type metadata) and the chunk entries, split into records that
// fit an erase block.
func intentRecords(sb *Superblock, seq uint64, in *intent) [][]byte {
	perRec := int((sb.EraseSize - recordOverhead - 16) / intentEntrySize)
	var parts [][]byte
	for first := 0; first < len(in.entries); first += perRec {
		n := min(perRec, len(in.entries)-first)
		var b enc
		b.u64(in.generation)
		b.u16(uint16(n))
		for _, x := range in.entries[first : first+n] {
			b.u8(x.Type)
			b.u32(x.Index)
			b.u32(x.Block)
			b.u64(x.Check)
			b.raw(x.Digest[:])
		}
		parts = append(parts, b.buf)
	}
	var h enc
	h.u64(in.generation)
	h.u16(uint16(len(parts)))
	h.u32(in.cursor)
	h.u32(in.wraps)
	h.config(in.config)
	h.u8(uint8(len(in.types)))
	for i := range in.types {
		h.typeMeta(&in.types[i], in.chunkCounts[i])
	}
	recs := [][]byte{encodeRecord(kindIntent, seq, h.buf, sb.SlotSize)}
	for i, b := range parts {
		recs = append(recs, encodeRecord(kindIntentChunk, seq+1+uint64(i), b, sb.SlotSize))
	}
	return recs
}

// IntentEntry is one chunk an interrupted or running round writes: the
// type, the chunk index, the data block and the new chunk's digest.
type IntentEntry struct {
	Type   uint8
	Index  uint32
	Block  uint32
	Check  uint64
	Digest Digest
}

// intent is a decoded (or planned) round: written before any data.
type intent struct {
	generation  uint64
	seq         uint64 // sequence number of the head record
	parts       int    // chunk records announced by the head
	partsSeen   int    // chunk records seen
	cursor      uint32
	wraps       uint32
	config      Config
	types       []TypeState // new metadata, no chunks
	chunkCounts []int
	entries     []IntentEntry
	// raw: the entries that follow entries, still encoded (the bytes of
	// intent chunk records, from splitIntentChunks). The replay keeps them
	// so, pointing into the journal blocks it read, and decodes them
	// (decodeRaw) only for an intent that outlives it.
	raw [][]byte
	// check: the replay's checks of the raw entries against the state
	// the intent applies to, made as their records are replayed (nil:
	// made by applyIntentOwned).
	check *rawCheck
}

func (in *intent) blocks() []uint32 {
	bs := make([]uint32, 0, len(in.entries))
	for _, x := range in.entries {
		bs = append(bs, x.Block)
	}
	slices.Sort(bs)
	return slices.Compact(bs)
}

func decodeIntentHead(body []byte) (*intent, error) {
	d := dec{buf: body}
	in := &intent{}
	in.generation = d.u64()
	in.parts = int(d.u16())
	in.cursor = d.u32()
	in.wraps = d.u32()
	in.config = d.config()
	n := int(d.u8())
	if n > maxTypes {
		return nil, fmt.Errorf("%w: intent lists %d types", ErrCorrupt, n)
	}
	if n > 0 {
		in.types = make([]TypeState, 0, n)
		in.chunkCounts = make([]int, 0, n)
	}
	for range n {
		t, nc := d.typeMeta()
		in.types = append(in.types, t)
		in.chunkCounts = append(in.chunkCounts, nc)
	}
	if d.bad {
		return nil, fmt.Errorf("%w: intent head truncated", ErrCorrupt)
	}
	return in, nil
}

// splitIntentChunks checks the framing of an intent chunk record and
// returns its generation and its entries' bytes (intentEntrySize each, as
// listed: entries past the listed count are ignored).
func splitIntentChunks(body []byte) (gen uint64, p []byte, err error) {
	if len(body) < 10 {
		return 0, nil, fmt.Errorf("%w: intent chunk record truncated", ErrCorrupt)
	}
	gen = le.Uint64(body)
	n := int(le.Uint16(body[8:]))
	p = body[10:]
	if n*intentEntrySize > len(p) {
		return 0, nil, fmt.Errorf("%w: intent chunk record lists %d entries in %d bytes", ErrCorrupt, n, len(body))
	}
	return gen, p[:n*intentEntrySize], nil
}

// Offsets of an encoded intent entry's fields.
const (
	ieType   = 0
	ieIndex  = 1
	ieBlock  = 5
	ieCheck  = 9
	ieDigest = 17
)

// appendIntentEntries decodes the entries of p (bytes from
// splitIntentChunks) and appends them to entries.
func appendIntentEntries(entries []IntentEntry, p []byte) []IntentEntry {
	n := len(p) / intentEntrySize
	k := len(entries)
	entries = slices.Grow(entries, n)[:k+n]
	for i := range n {
		q := p[i*intentEntrySize : (i+1)*intentEntrySize]
		x := &entries[k+i] // decoded in place
		x.Type, x.Index, x.Block, x.Check = q[ieType], le.Uint32(q[ieIndex:]), le.Uint32(q[ieBlock:]), le.Uint64(q[ieCheck:])
		x.Digest = Digest(q[ieDigest:intentEntrySize])
	}
	return entries
}

// decodeIntentChunks decodes an intent chunk record, appending its entries
// to entries.
func decodeIntentChunks(body []byte, entries []IntentEntry) (gen uint64, out []IntentEntry, err error) {
	gen, p, err := splitIntentChunks(body)
	if err != nil {
		return 0, entries, err
	}
	return gen, appendIntentEntries(entries, p), nil
}

// decodeRaw moves the entries of in.raw into in.entries (after those it
// holds): the raw bytes point into journal blocks about to be reused.
// in.entries is not nil afterwards.
func (in *intent) decodeRaw() {
	if len(in.raw) == 0 {
		if in.entries == nil {
			in.entries = []IntentEntry{} // as for an intent with entries: not nil
		}
		in.dropCheck()
		return
	}
	n := len(in.entries)
	for _, p := range in.raw {
		n += len(p) / intentEntrySize
	}
	entries := make([]IntentEntry, len(in.entries), n)
	copy(entries, in.entries)
	for _, p := range in.raw {
		entries = appendIntentEntries(entries, p)
	}
	in.entries, in.raw = entries, nil
	in.dropCheck()
}

// commitRecord is a decoded commit.
type commitRecord struct {
	intentSeq uint64 // 0: no intent (nothing changed, or a config-only generation)
	parts     int
	state     State // head fields only (no types)
}

func encodeCommit(intentSeq uint64, parts int, st *State) []byte {
	var e enc
	e.u64(intentSeq)
	e.u16(uint16(parts))
	e.stateHead(st)
	return e.buf
}

func decodeCommit(body []byte) (commitRecord, error) {
	d := dec{buf: body}
	var c commitRecord
	c.intentSeq = d.u64()
	c.parts = int(d.u16())
	c.state = d.stateHead()
	if d.bad {
		return c, fmt.Errorf("%w: commit record truncated", ErrCorrupt)
	}
	return c, nil
}
