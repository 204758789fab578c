// The intent: a round's "in progress" mark, its records and their
// encoding and decoding.

package store

import (
	"fmt"
	"slices"
)

// intentEntrySize is the encoded size of one entry of an intent-chunks
// record (docs/FORMAT.md, Record kinds).
const intentEntrySize = 1 + 4 + 4 + 8 + DigestSize

// intentRecords encodes a round's intent: the head (generation, cursor,
// config, new type metadata) and the chunk entries, split into records that
// fit an erase block.
func intentRecords(sb *Superblock, seq uint64, in *intent) [][]byte {
	entries, runs := in.entries, [][]IntentEntry(nil)
	if sb.Version >= compactVersion {
		if singles, r := splitRuns(in.entries); useRuns(sb, in.entries, singles, r) {
			entries, runs = singles, r
		}
	}
	perRec := int((sb.EraseSize - recordOverhead - 16) / intentEntrySize)
	var parts [][]byte
	var kinds []uint8
	for first := 0; first < len(entries); first += perRec {
		n := min(perRec, len(entries)-first)
		var b enc
		b.u64(in.generation)
		b.u16(uint16(n))
		for _, x := range entries[first : first+n] {
			b.u8(x.Type)
			b.u32(x.Index)
			b.u32(x.Block)
			b.u64(x.Check)
			b.raw(x.Digest[:])
		}
		parts, kinds = append(parts, b.buf), append(kinds, kindIntentChunk)
	}
	for _, b := range intentRunsBodies(in.generation, runs, sb.EraseSize-recordOverhead) {
		parts, kinds = append(parts, b), append(kinds, kindIntentRuns)
	}
	for k := range in.deltas {
		kind := kindIntentDeltas
		if sb.Version >= compactVersion {
			kind = kindIntentDeltas5
		}
		parts = append(parts, intentDeltasBody(in.generation, &in.deltas[k], sb.Version >= compactVersion))
		kinds = append(kinds, kind)
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
		recs = append(recs, encodeRecord(kinds[i], seq+1+uint64(i), b, sb.SlotSize))
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
	// named: the data blocks the replayed entries name (each once).
	named blockSet
	// superseded: the blocks of earlier intents this one followed without
	// a commit or purged mark between: pending too (a purge erases them),
	// but not the new round's (docs/FORMAT.md, States and transitions).
	superseded []uint32
	// deltas: the delta blocks of the intent-deltas records (format
	// version 3), decoded, each with its entries.
	deltas []deltaBlock
}

// blocks returns the data blocks the intent names (chunks and spares, and
// those of intents it superseded), sorted, each once.
func (in *intent) blocks() []uint32 {
	bs := make([]uint32, 0, len(in.entries)+len(in.superseded))
	for _, x := range in.entries {
		bs = append(bs, x.Block)
	}
	for _, p := range in.raw {
		for q := 0; q+intentEntrySize <= len(p); q += intentEntrySize {
			bs = append(bs, le.Uint32(p[q+ieBlock:]))
		}
	}
	for _, db := range in.deltas {
		bs = append(bs, db.block)
	}
	bs = append(bs, in.superseded...)
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
		if d.bad {
			break
		}
		for _, o := range in.types {
			if o.Type == t.Type {
				d.fail("type %d has two metadata entries", t.Type)
			}
		}
		in.types = append(in.types, t)
		in.chunkCounts = append(in.chunkCounts, nc)
	}
	if err := d.end(); err != nil {
		return nil, fmt.Errorf("%w: intent head: %v", ErrCorrupt, err)
	}
	return in, nil
}

// splitIntentChunks checks the framing of an intent chunk record (u64
// generation, u16 c, exactly c entries) and returns its generation and its
// entries' bytes (intentEntrySize each).
func splitIntentChunks(body []byte) (gen uint64, p []byte, err error) {
	if len(body) < 10 {
		return 0, nil, fmt.Errorf("%w: intent chunk record truncated", ErrCorrupt)
	}
	gen = le.Uint64(body)
	n := int(le.Uint16(body[8:]))
	p = body[10:]
	if n*intentEntrySize != len(p) {
		return 0, nil, fmt.Errorf("%w: intent chunk record lists %d entries in %d bytes", ErrCorrupt, n, len(body))
	}
	return gen, p, nil
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

// durable returns the intent that the first n of recs state — recs being
// in's records as intentRecords encoded them, n at least 1 (the head):
// in's head fields, the entries of the intent-chunks and intent-runs
// records among the n, decoded in record order, and the delta blocks of
// the intent-deltas records among them. That is what a replay of those
// records finds (applyIntentHead, applyIntentChunks, applyIntentDeltas):
// a round whose intent stopped after n records is pending with it, and a
// purge erases its blocks, not those of the records never written. n at
// or beyond len(recs) returns in itself.
func (in *intent) durable(recs [][]byte, n int) *intent {
	if n >= len(recs) {
		return in
	}
	d := &intent{generation: in.generation, seq: in.seq, parts: in.parts, partsSeen: max(n-1, 0),
		cursor: in.cursor, wraps: in.wraps, config: in.config.clone(),
		types: slices.Clone(in.types), chunkCounts: slices.Clone(in.chunkCounts), entries: []IntentEntry{}}
	k := 0 // intent-deltas records seen: intentRecords writes in.deltas in order, last
	for _, rec := range recs[1:max(n, 1)] {
		body := rec[recordHeader : recordHeader+int(le.Uint32(rec[8:]))]
		var p []byte
		var err error
		switch rec[4] {
		case kindIntentChunk:
			_, p, err = splitIntentChunks(body)
		case kindIntentRuns:
			_, p, err = expandRuns(body)
		case kindIntentDeltas, kindIntentDeltas5:
			d.deltas = append(d.deltas, in.deltas[k])
			k++
			continue
		}
		if err != nil {
			return in // not reached: the records are in's own encoding
		}
		d.entries = appendIntentEntries(d.entries, p)
	}
	return d
}
