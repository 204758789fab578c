package store

import (
	"fmt"
	"math/bits"
	"slices"
	"sync"

	"github.com/cmcsync/cmcsync/hal"
)

// chunkPools recycle chunk maps between a store given back with Release and the stores opened
// after it (a campaign opens thousands). A map of capacity c is kept in
// class bits.Len(c)-1 (capacities [2^k, 2^(k+1)) in class k); maps are
// allocated at their exact length, so a store that is never released
// costs no more than its chunks.
var chunkPools [32]sync.Pool // *[]Chunk

// pooledChunks returns a chunk map of length n > 0 from the pools (its
// contents unspecified), or nil.
func pooledChunks(n int) []Chunk {
	lo := bits.Len(uint(n)) - 1 // holds capacities from 2^lo: may be too small
	hi := bits.Len(uint(n - 1)) // holds capacities from 2^hi >= n
	if lo < len(chunkPools) {
		if v, ok := chunkPools[lo].Get().(*[]Chunk); ok {
			if cap(*v) >= n {
				return (*v)[:n]
			}
			chunkPools[lo].Put(v)
		}
	}
	if hi != lo && hi < len(chunkPools) {
		if v, ok := chunkPools[hi].Get().(*[]Chunk); ok {
			return (*v)[:n]
		}
	}
	return nil
}

// getChunkMaps sets maps[i] to a chunk map of length ns[i] for every i
// with ns[i] >= 0, its contents unspecified (the caller fills every
// chunk): from the pools, the rest carved from one new allocation (a
// store's first full sync holds thousands of chunks in a few types).
func getChunkMaps(ns []int, maps [][]Chunk) {
	missing := 0
	for i, n := range ns {
		switch {
		case n < 0:
		case n == 0:
			maps[i] = []Chunk{}
		default:
			if maps[i] = pooledChunks(n); maps[i] == nil {
				missing += n
			}
		}
	}
	if missing == 0 {
		return
	}
	slab := make([]Chunk, missing)
	for i, n := range ns {
		if n > 0 && maps[i] == nil {
			maps[i], slab = slab[:n:n], slab[n:]
		}
	}
}

// putChunks gives cs back for reuse; the caller must not use it again.
func putChunks(cs []Chunk) {
	c := bits.Len(uint(cap(cs))) - 1
	if cap(cs) == 0 || c >= len(chunkPools) {
		return
	}
	chunkPools[c].Put(&cs)
}

// recordPool recycles the record lists journal scans build (a store keeps
// the one it replayed as its log until Release).
var recordPool sync.Pool // *[]record

// getRecords returns an empty record list with room for a journal's
// worth of records.
func getRecords() []record {
	if v, ok := recordPool.Get().(*[]record); ok {
		return (*v)[:0]
	}
	return make([]record, 0, 64)
}

// putRecords gives rs back for reuse; the caller must not use it again.
func putRecords(rs []record) {
	if cap(rs) > 0 {
		clear(rs[:cap(rs)]) // no bodies kept alive in the pool
		rs = rs[:0]
		recordPool.Put(&rs)
	}
}

// blockBufs hands out erase-block-sized buffers carved from pooled slabs
// of slabBlocks blocks, so that opening a store (thousands of times in a
// fault campaign) allocates almost nothing for the journal it reads.
// Buffers are valid until release; their contents are unspecified.
type blockBufs struct {
	blockSize int64
	slabs     []*[]byte
	rest      []byte
}

const slabBlocks = 16

var slabPool sync.Pool // *[]byte of any length; get checks the size

func (b *blockBufs) get() []byte {
	if int64(len(b.rest)) < b.blockSize {
		want := int(b.blockSize) * slabBlocks
		var sp *[]byte
		if v, ok := slabPool.Get().(*[]byte); ok && len(*v) == want {
			sp = v
		} else {
			x := make([]byte, want)
			sp = &x
		}
		b.slabs = append(b.slabs, sp)
		b.rest = *sp
	}
	x := b.rest[:b.blockSize:b.blockSize]
	b.rest = b.rest[b.blockSize:]
	return x
}

// release gives every slab back; no buffer from b may be used after it.
func (b *blockBufs) release() {
	for _, sp := range b.slabs {
		slabPool.Put(sp)
	}
	b.slabs, b.rest = nil, nil
}

// areaScan is what scanning one journal area found.
type areaScan struct {
	records    []record
	tailBlock  int64 // where the next record goes
	tailOffset int64
	damaged    []string
	dirty      bool // damage: compact before appending
	torn       bool // the journal ends with a torn (invalid) write
	// tailReady: the tail block reads erased from the tail offset on.
	tailReady bool
}

// scanArea reads area a from its first block: records in sequence-number
// order, following the writer's rule that a record which does not fit (or
// follows a torn write) starts at the next block. It reads only the blocks
// in use and the one after them.
func (s *Store) scanArea(a int, bufs *blockBufs) (*areaScan, error) {
	k := int64(s.layout.JournalBlocks)
	base := s.areaOff(a)
	res := &areaScan{records: getRecords()}
	buf := bufs.get()
	next := bufs.get()
	if _, err := s.flash.ReadAt(buf, base); err != nil {
		return nil, fmt.Errorf("read journal area %d: %w", a, err)
	}
	var expect uint64
	started := false
	bi := int64(0)
	so := int64(0)
	// carried: buf's first record, parsed (and its CRCs checked) when buf
	// was the next block.
	var carried record
	hasCarried := false
	for {
		for so < s.eraseSize {
			var r record
			st := parseOK
			if hasCarried {
				r, hasCarried = carried, false
			} else {
				r, st = parseRecord(buf[so:], s.slotSize, s.opts.TrustRecords)
			}
			if st != parseOK || (started && r.seq != expect) {
				break
			}
			r.off = base + bi*s.eraseSize + so
			res.records = append(res.records, r)
			expect = r.seq + 1
			started = true
			so += r.size
		}
		if !started {
			return res, nil
		}
		clean := so >= s.eraseSize || hal.IsErased(buf[so:])
		if !clean {
			// Torn tail or damage: damage if a later valid record follows.
			for p := so + s.slotSize; p < s.eraseSize; p += s.slotSize {
				if r, st := parseRecord(buf[p:], s.slotSize, s.opts.TrustRecords); st == parseOK && r.seq >= expect {
					res.damaged = append(res.damaged, fmt.Sprintf("journal record %d at %#x is damaged; later records ignored", expect, base+bi*s.eraseSize+so))
					break
				}
			}
		}
		// The journal continues at the next block only if its first record
		// is the expected one. Anything else there — erased, stale records
		// of an older epoch (lower sequence numbers), a torn write — ends
		// the journal: the writer erases a block before it enters it.
		nb := bi + 1
		found, nextErased := false, false
		if nb < k {
			if _, err := s.flash.ReadAt(next, base+nb*s.eraseSize); err != nil {
				return nil, fmt.Errorf("read journal area %d: %w", a, err)
			}
			r, st := parseRecord(next, s.slotSize, s.opts.TrustRecords)
			switch {
			case st == parseOK && r.seq == expect:
				found = true
				carried, hasCarried = r, true
			case st == parseOK && r.seq > expect:
				res.damaged = append(res.damaged, fmt.Sprintf("journal records %d..%d missing before %#x; later records ignored", expect, r.seq-1, base+nb*s.eraseSize))
			case st == parseErased && hal.IsErased(next):
				nextErased = true
			}
		}
		if found {
			bi = nb
			buf, next = next, bufs.get() // records keep pointing into buf
			so = 0
			continue
		}
		if clean && so < s.eraseSize {
			res.tailBlock, res.tailOffset, res.tailReady = bi, so, true
		} else {
			res.tailBlock, res.tailOffset, res.tailReady = bi+1, 0, nextErased
		}
		res.torn = !clean
		if len(res.damaged) > 0 {
			res.dirty = true
		}
		return res, nil
	}
}

// loadJournal picks the journal area with the newest complete checkpoint
// and replays it.
func (s *Store) loadJournal() error {
	type cand struct {
		a     int
		epoch uint64
	}
	var cands []cand
	// The blocks read stay in bufs while the records point into them;
	// they go back to the pool once the state is rebuilt and the kept
	// records no longer point into them.
	bufs := &blockBufs{blockSize: s.eraseSize}
	defer bufs.release()
	hdr := bufs.get()
	for a := 0; a < 2; a++ {
		if _, err := s.flash.ReadAt(hdr[:min(s.eraseSize, 1024)], s.areaOff(a)); err != nil {
			return fmt.Errorf("read journal area %d: %w", a, err)
		}
		r, st := parseRecord(hdr[:min(s.eraseSize, 1024)], s.slotSize, s.opts.TrustRecords)
		if st != parseOK || r.kind != kindCkptBegin || len(r.body) < 8 {
			// A checkpoint-begin larger than 1 KiB: read the whole block.
			if _, err := s.flash.ReadAt(hdr, s.areaOff(a)); err != nil {
				return fmt.Errorf("read journal area %d: %w", a, err)
			}
			r, st = parseRecord(hdr, s.slotSize, s.opts.TrustRecords)
			if st != parseOK || r.kind != kindCkptBegin || len(r.body) < 8 {
				continue
			}
		}
		cands = append(cands, cand{a, le.Uint64(r.body)})
	}
	if len(cands) == 2 && cands[1].epoch > cands[0].epoch {
		cands[0], cands[1] = cands[1], cands[0]
	}
	var errs []error
	for i, c := range cands {
		sc, err := s.scanArea(c.a, bufs)
		if err != nil {
			return err
		}
		if err := s.replay(sc.records, c.epoch); err != nil {
			putRecords(sc.records)
			errs = append(errs, fmt.Errorf("journal area %d (epoch %d): %w", c.a, c.epoch, err))
			continue
		}
		if i > 0 {
			s.damage = append(s.damage, fmt.Sprintf("newer journal area %d unusable (%v); using area %d", cands[0].a, errs[0], c.a))
			sc.dirty = true
		}
		s.damage = append(s.damage, sc.damaged...)
		s.area, s.epoch = c.a, c.epoch
		s.tailBlock, s.tailOffset, s.tailReady = sc.tailBlock, sc.tailOffset, sc.tailReady
		if s.tailOffset > 0 {
			// What follows the last valid record may have been touched
			// by a torn write whose weak bits read as erased: append in a
			// fresh block, erased first.
			s.tailBlock, s.tailOffset = s.tailBlock+1, 0
		}
		s.tailReady = false
		s.recordCount = len(sc.records)
		s.torn = sc.torn
		s.mustCompact = sc.dirty || s.tailBlock >= int64(s.layout.JournalBlocks)
		if n := len(sc.records); n > 0 {
			s.lastRecord = sc.records[n-1]
			s.lastRecord.body = slices.Clone(s.lastRecord.body)
			s.nextSeq = s.lastRecord.seq + 1
		}
		// The log keeps where each record is, not its body (the bodies
		// point into bufs).
		for i := range sc.records {
			sc.records[i].body = nil
		}
		s.log = sc.records
		return nil
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: no usable journal area: %v", ErrCorrupt, errs)
	}
	return fmt.Errorf("%w: no journal checkpoint in either area (superblock is valid: the store was damaged or its format was interrupted)", ErrCorrupt)
}

// replay rebuilds the state from a checkpoint and the records after it.
func (s *Store) replay(recs []record, epoch uint64) error {
	if len(recs) == 0 || recs[0].kind != kindCkptBegin {
		return fmt.Errorf("%w: no checkpoint", ErrCorrupt)
	}
	// Checkpoint.
	d := dec{buf: recs[0].body}
	if d.u64() != epoch {
		return fmt.Errorf("%w: checkpoint epoch mismatch", ErrCorrupt)
	}
	st := d.stateHead()
	var staged *Config
	if d.u8() != 0 {
		c := d.config()
		staged = &c
	}
	cursor, wraps := d.u32(), d.u32()
	nt := int(d.u8())
	if nt > maxTypes {
		return fmt.Errorf("%w: checkpoint lists %d types", ErrCorrupt, nt)
	}
	nchunks := make([]int, nt)
	for i := range nt {
		t, n := d.typeMeta()
		if n > int(s.layout.DataBlocks) {
			return fmt.Errorf("%w: checkpoint type %d has %d chunks", ErrCorrupt, t.Type, n)
		}
		st.Types = append(st.Types, t)
		nchunks[i] = n
	}
	var maps [maxTypes][]Chunk
	getChunkMaps(nchunks, maps[:nt])
	for i := range st.Types {
		st.Types[i].Chunks = maps[i][:0]
	}
	nrec := int(d.u32())
	if d.bad {
		return fmt.Errorf("%w: checkpoint head truncated", ErrCorrupt)
	}
	if len(recs) < nrec+2 {
		return fmt.Errorf("%w: checkpoint incomplete (%d of %d records)", ErrCorrupt, len(recs)-1, nrec+2)
	}
	for _, r := range recs[1 : 1+nrec] {
		if r.kind != kindCkptChunks {
			return fmt.Errorf("%w: checkpoint record %d is %s", ErrCorrupt, r.seq, kindName(r.kind))
		}
		d := dec{buf: r.body}
		if d.u64() != epoch {
			return fmt.Errorf("%w: checkpoint chunk record epoch mismatch", ErrCorrupt)
		}
		typ, first, n := d.u8(), int(d.u32()), int(d.u16())
		ti := -1
		for i := range st.Types {
			if st.Types[i].Type == typ {
				ti = i
			}
		}
		if ti < 0 || first != len(st.Types[ti].Chunks) || first+n > nchunks[ti] {
			return fmt.Errorf("%w: checkpoint chunk record %d out of order", ErrCorrupt, r.seq)
		}
		for range n {
			c := Chunk{Block: d.u32(), Check: d.u64(), Digest: d.digest()}
			if c.Block >= s.layout.DataBlocks {
				return fmt.Errorf("%w: checkpoint maps a chunk to block %d of %d", ErrCorrupt, c.Block, s.layout.DataBlocks)
			}
			st.Types[ti].Chunks = append(st.Types[ti].Chunks, c)
		}
		if d.bad {
			return fmt.Errorf("%w: checkpoint chunk record %d truncated", ErrCorrupt, r.seq)
		}
	}
	for i := range st.Types {
		if len(st.Types[i].Chunks) != nchunks[i] {
			return fmt.Errorf("%w: checkpoint type %d has %d of %d chunks", ErrCorrupt, st.Types[i].Type, len(st.Types[i].Chunks), nchunks[i])
		}
	}
	end := recs[1+nrec]
	if ed := (dec{buf: end.body}); end.kind != kindCkptEnd || ed.u64() != epoch || int(ed.u32()) != nrec {
		return fmt.Errorf("%w: checkpoint end record missing", ErrCorrupt)
	}
	s.committed, s.staged, s.cursor, s.wraps = st, staged, cursor, wraps
	s.pending, s.purged = nil, nil
	s.erased = newBlockSet(int(s.layout.DataBlocks))
	if wraps == 0 {
		s.erased.addRange(cursor, s.layout.DataBlocks)
	}
	// Deltas.
	for _, r := range recs[2+nrec:] {
		if err := s.apply(r); err != nil {
			s.damage = append(s.damage, fmt.Sprintf("journal record %d (%s): %v; later records ignored", r.seq, kindName(r.kind), err))
			break
		}
	}
	// The intents that outlive the replay get their entries decoded: the
	// journal blocks they point into are reused after it.
	if s.pending != nil {
		s.pending.decodeRaw()
	}
	if s.purged != nil {
		s.purged.decodeRaw()
	}
	if !s.opts.ReadOnly {
		// Only writes (purges, rounds) use the block flags.
		s.rebuildLive()
	}
	return nil
}

func (s *Store) rebuildLive() {
	live := newBlockSet(int(s.layout.DataBlocks))
	// Chunks mostly sit in consecutive blocks: the bits of the current
	// word gather in a register.
	w, set := -1, uint64(0)
	for i := range s.committed.Types {
		cs := s.committed.Types[i].Chunks
		for k := range cs {
			b := cs[k].Block
			if int(b>>6) != w {
				if w >= 0 {
					live[w] |= set
				}
				w, set = int(b>>6), 0
			}
			set |= 1 << (b & 63)
		}
	}
	if w >= 0 {
		live[w] |= set
	}
	s.erased.andNot(live)
	s.live = live
}

// apply replays one delta record onto the in-memory state. The intents
// it builds keep their entries encoded (intent.raw, pointing into the
// journal blocks being replayed) and check them as their records come
// (intent.check); replay decodes the intents that outlive it.
func (s *Store) apply(r record) error {
	switch r.kind {
	case kindIntent:
		in, err := decodeIntentHead(r.body)
		if err != nil {
			return err
		}
		in.seq = r.seq
		// Nothing changes s.committed.Types between an intent and its commit:
		// its entries can be checked against them as they come.
		in.check = newRawCheck(in, s.committed.Types, true)
		if s.pending != nil {
			// A second intent without purge or commit: the first one's
			// blocks still need purging; keep both lists.
			s.pending.dropCheck()
			in.entries = s.pending.entries
			in.raw = append(in.raw, s.pending.raw...)
			if len(in.entries) > 0 {
				in.dropCheck()
			}
			if in.check != nil {
				for _, p := range in.raw {
					in.check.addBlocks(p, s.erased, s.layout.DataBlocks) // checked before: no error
				}
			}
		}
		s.pending = in
		s.cursor, s.wraps = in.cursor, in.wraps
	case kindIntentChunk:
		in := s.pending
		if in == nil {
			return fmt.Errorf("%w: intent chunks without an intent", ErrCorrupt)
		}
		gen, p, err := splitIntentChunks(r.body)
		if err != nil {
			return err
		}
		if gen != in.generation {
			return fmt.Errorf("%w: intent chunks for generation %d without its intent", ErrCorrupt, gen)
		}
		if in.check != nil {
			// One pass: blocks, and the check for the commit.
			if b, ok := in.check.addBlocks(p, s.erased, s.layout.DataBlocks); !ok {
				return fmt.Errorf("%w: intent names block %d of %d", ErrCorrupt, b, s.layout.DataBlocks)
			}
		} else {
			erased, nb := s.erased, s.layout.DataBlocks
			for q := 0; q+intentEntrySize <= len(p); q += intentEntrySize {
				b := le.Uint32(p[q+ieBlock:])
				if b >= nb {
					return fmt.Errorf("%w: intent names block %d of %d", ErrCorrupt, b, nb)
				}
				erased.remove(b)
			}
		}
		in.raw = append(in.raw, p)
		in.partsSeen++
	case kindCommit:
		c, err := decodeCommit(r.body)
		if err != nil {
			return err
		}
		if c.state.Generation <= s.committed.Generation {
			return fmt.Errorf("%w: commit of generation %d after %d", ErrCorrupt, c.state.Generation, s.committed.Generation)
		}
		next := c.state
		if c.intentSeq != 0 {
			in := s.pending
			if in == nil || in.seq != c.intentSeq || in.generation != next.Generation || in.partsSeen != in.parts || c.parts != in.parts {
				return fmt.Errorf("%w: commit of generation %d without its complete intent", ErrCorrupt, next.Generation)
			}
			types, err := s.applyIntentOwned(in, s.erased)
			if err != nil {
				return err
			}
			next.Types = types
		} else {
			if s.pending != nil {
				return fmt.Errorf("%w: commit of generation %d while a round is pending", ErrCorrupt, next.Generation)
			}
			next.Types = s.committed.Types
		}
		s.committed = next
		s.staged = nil
		s.pending = nil
	case kindPurged:
		d := dec{buf: r.body}
		gen, seq := d.u64(), d.u64()
		if d.bad || s.pending == nil || s.pending.generation != gen || s.pending.seq != seq {
			return fmt.Errorf("%w: purged mark for generation %d without its intent", ErrCorrupt, gen)
		}
		// Live blocks are cleared again after the replay.
		for i := range s.pending.entries {
			s.erased.add(s.pending.entries[i].Block)
		}
		for _, p := range s.pending.raw {
			for q := 0; q+intentEntrySize <= len(p); q += intentEntrySize {
				s.erased.add(le.Uint32(p[q+ieBlock:]))
			}
		}
		s.purged, s.pending = s.pending, nil
		s.purged.dropCheck()
		s.staged = nil // purge-then-reinit: back to the committed config
	case kindStaged:
		d := dec{buf: r.body}
		c := d.config()
		if d.bad {
			return fmt.Errorf("%w: staged config truncated", ErrCorrupt)
		}
		s.staged = &c
	case kindRole:
		d := dec{buf: r.body}
		ro := d.role()
		if d.bad {
			return fmt.Errorf("%w: role record truncated", ErrCorrupt)
		}
		s.committed.Role = ro
	default:
		return fmt.Errorf("%w: unexpected %s record", ErrCorrupt, kindName(r.kind))
	}
	return nil
}

// rawCheck is applyIntent's check of an intent's entries, made on their
// encoded form as the replay meets them: every entry names a described
// type and a chunk within it, and every chunk beyond the committed map
// gets a block. Its tables are per position in the intent's types.
type rawCheck struct {
	position       [256]uint8 // 1 + position of each described type; 0: not described
	described      int        // described types
	committedIndex [maxTypes]int
	chunkCount     [maxTypes]int // new chunk count
	keptLen        [maxTypes]int // chunks kept from the committed map
	grownBase      [maxTypes]int // first bit of the type's grown chunks
	// grown: one bit per chunk past the committed map, by type.
	grown []uint64
	err   error // the first entry in error, in entry order
	// fused: every type gets a new chunk map (none is updated in place),
	// made when the intent is met and filled as its entries come (the
	// committed chunks first): a commit only installs them. spares are
	// the blocks of spare entries met.
	fused  bool
	maps   [maxTypes][]Chunk
	spares []uint32
}

// newRawCheck prepares the check of in's entries against the committed
// types, fused if fuse and no map is updated in place (then addBlocks must
// see every entry); nil if in lists a type twice or too many (the general
// path, applyIntent, decides then).
func newRawCheck(in *intent, committed []TypeState, fuse bool) *rawCheck {
	if len(in.types) > maxTypes {
		return nil
	}
	c := &rawCheck{described: len(in.types)}
	bitsN := 0
	for i, nt := range in.types {
		if c.position[nt.Type] != 0 {
			return nil
		}
		c.position[nt.Type] = uint8(i + 1)
		c.chunkCount[i] = in.chunkCounts[i]
		c.committedIndex[i] = -1
		for j := range committed {
			if committed[j].Type == nt.Type {
				c.committedIndex[i] = j
			}
		}
		if c.committedIndex[i] >= 0 {
			c.keptLen[i] = min(len(committed[c.committedIndex[i]].Chunks), in.chunkCounts[i])
		}
		c.grownBase[i] = bitsN
		bitsN += max(in.chunkCounts[i]-c.keptLen[i], 0)
	}
	c.grown = make([]uint64, (bitsN+63)/64)
	if !fuse {
		return c
	}
	// Fused unless a type's map is updated in place (its new length fits
	// the committed map: a small round).
	var ns [maxTypes]int
	for i := range in.types {
		if c.committedIndex[i] >= 0 {
			if old := committed[c.committedIndex[i]].Chunks; old != nil && in.chunkCounts[i] <= cap(old) {
				return c
			}
		}
		ns[i] = in.chunkCounts[i]
	}
	c.fused = true
	getChunkMaps(ns[:c.described], c.maps[:c.described])
	for i := range in.types {
		if c.committedIndex[i] >= 0 {
			copy(c.maps[i], committed[c.committedIndex[i]].Chunks) // entries fill the rest
		}
	}
	return c
}

// dropCheck forgets in.check, giving its chunk maps back for reuse (the
// intent was not committed).
func (in *intent) dropCheck() {
	if c := in.check; c != nil && c.fused {
		for i := range c.described {
			putChunks(c.maps[i])
			c.maps[i] = nil
		}
		c.fused = false
	}
	in.check = nil
}

// add checks the entries of p (bytes from splitIntentChunks), which
// follow those already added.
func (c *rawCheck) add(p []byte) {
	for ; len(p) >= intentEntrySize && c.err == nil; p = p[intentEntrySize:] {
		if t := p[ieType]; t != SpareType {
			c.entry(t, le.Uint32(p[ieIndex:]))
		}
	}
}

// addBlocks is add, and for every entry in turn first checks that its
// block is below nb (else it stops, returning the block and false: the
// caller reports the record as damaged, and the replay ends there) and
// removes the block from erased.
func (c *rawCheck) addBlocks(p []byte, erased blockSet, nb uint32) (uint32, bool) {
	// Blocks first. They are mostly consecutive: the bits to clear in the
	// current word of erased gather in a register.
	n := len(p) / intentEntrySize
	good := n
	ew, clr := -1, uint64(0)
	for j := range n {
		b := le.Uint32(p[j*intentEntrySize+ieBlock:])
		if b >= nb {
			good = j
			break
		}
		if w := int(b >> 6); w != ew {
			if ew >= 0 {
				erased[ew] &^= clr
			}
			ew, clr = w, 0
		}
		clr |= 1 << (b & 63)
	}
	if ew >= 0 {
		erased[ew] &^= clr
	}
	c.addFused(p[:good*intentEntrySize])
	if good < n {
		return le.Uint32(p[good*intentEntrySize+ieBlock:]), false // beyond the data area
	}
	return 0, true
}

// addFused is add, and for a fused check also fills the new chunk maps and
// notes the spare blocks.
func (c *rawCheck) addFused(p []byte) {
	if !c.fused {
		c.add(p)
		return
	}
	// The bits to set in the current word of grown gather in a register.
	grown := c.grown
	gw, set := -1, uint64(0)
	for ; len(p) >= intentEntrySize && c.err == nil; p = p[intentEntrySize:] {
		e := p[:intentEntrySize]
		t := e[ieType]
		if t == SpareType {
			c.spare(le.Uint32(e[ieBlock:]))
			continue
		}
		x := le.Uint32(e[ieIndex:])
		i := int(c.position[t]) - 1
		if i < 0 || int64(x) >= int64(c.chunkCount[i&(maxTypes-1)]) {
			c.fail(t, x)
			break
		}
		i &= maxTypes - 1
		if k := int(x) - c.keptLen[i]; k >= 0 {
			k += c.grownBase[i]
			if w := k >> 6; w != gw {
				if gw >= 0 {
					grown[gw] |= set
				}
				gw, set = w, 0
			}
			set |= 1 << (k & 63)
		}
		ch := &c.maps[i][x]
		ch.Block = le.Uint32(e[ieBlock:])
		ch.Check = le.Uint64(e[ieCheck:])
		ch.Digest = Digest(e[ieDigest:])
	}
	if gw >= 0 {
		grown[gw] |= set
	}
}

// spare notes the block of a spare entry.
//
//go:noinline
func (c *rawCheck) spare(b uint32) { c.spares = append(c.spares, b) }

// entry checks one entry that is not a spare.
func (c *rawCheck) entry(t uint8, x uint32) {
	i := int(c.position[t]) - 1
	if i < 0 || int64(x) >= int64(c.chunkCount[i]) {
		c.fail(t, x)
		return
	}
	if k := int(x) - c.keptLen[i]; k >= 0 {
		k += c.grownBase[i]
		c.grown[k>>6] |= 1 << (k & 63)
	}
}

// fail records the error of an entry that names a type not described or
// a chunk beyond its type's count.
func (c *rawCheck) fail(t uint8, x uint32) {
	i := int(c.position[t]) - 1
	if i < 0 {
		c.err = fmt.Errorf("%w: intent writes a chunk of type %d it does not describe", ErrCorrupt, t)
		return
	}
	c.err = fmt.Errorf("%w: intent writes chunk %d of type %d beyond its %d chunks", ErrCorrupt, x, t, c.chunkCount[i])
}

// result returns the check's error, if any, for the intent's types.
func (c *rawCheck) result(in *intent) error {
	if c.err != nil {
		return c.err
	}
	for i, nt := range in.types {
		need := max(c.chunkCount[i]-c.keptLen[i], 0)
		if j := firstClear(c.grown, c.grownBase[i], c.grownBase[i]+need); j >= 0 {
			return fmt.Errorf("%w: type %d chunk %d has no block", ErrCorrupt, nt.Type, c.keptLen[i]+j-c.grownBase[i])
		}
	}
	return nil
}

// firstClear returns the first bit in [lo, hi) of b that is clear, or -1.
func firstClear(b []uint64, lo, hi int) int {
	for lo < hi {
		w := ^b[lo>>6] >> (lo & 63) // the bits from lo on, set where clear
		if n := 64 - lo&63; hi-lo < n {
			w &= 1<<(hi-lo) - 1
			n = hi - lo
		} else if w == 0 {
			lo += n
			continue
		}
		if w != 0 {
			return lo + bits.TrailingZeros64(w)
		}
		lo = hi
	}
	return -1
}

// applyIntentOwned is applyIntent for the replay, where nothing outside
// the store refers to s.committed's chunk maps yet: it checks everything first
// (in.check, made as the records came, or now), then updates the maps in
// place (no copy of every type's map per commit), reading the entries
// straight from their encoded form (in.raw). It adds the blocks of spare
// entries to spares, if not nil. On error s.committed is unchanged, and the error
// is the one applyIntent would return.
func (s *Store) applyIntentOwned(in *intent, spares blockSet) ([]TypeState, error) {
	c := in.check
	if c == nil && len(in.entries) == 0 {
		if c = newRawCheck(in, s.committed.Types, false); c != nil {
			for _, p := range in.raw {
				c.add(p)
			}
		}
	}
	if c == nil || len(in.entries) > 0 {
		types, err := s.applyIntentDecoded(in)
		if err == nil && spares != nil {
			for _, p := range in.raw {
				for q := 0; q+intentEntrySize <= len(p); q += intentEntrySize {
					if p[q+ieType] == SpareType {
						spares.add(le.Uint32(p[q+ieBlock:]))
					}
				}
			}
			for i := range in.entries {
				if x := &in.entries[i]; x.Type == SpareType {
					spares.add(x.Block)
				}
			}
		}
		return types, err
	}
	if err := c.result(in); err != nil {
		return nil, err
	}
	types := s.committed.Types
	if c.fused {
		// The new maps are filled: install them.
		for i, nt := range in.types {
			nt.Chunks = c.maps[i]
			c.maps[i] = nil
			if c.committedIndex[i] >= 0 {
				putChunks(types[c.committedIndex[i]].Chunks) // nothing else refers to it during the replay
				types[c.committedIndex[i]] = nt
			} else {
				types = append(types, nt)
			}
		}
		c.fused = false
		if spares != nil {
			for _, b := range c.spares {
				spares.add(b) // erased with its window, still free
			}
		}
		sortTypes(types)
		return types, nil
	}
	// Apply.
	var maps [maxTypes][]Chunk
	var fresh [maxTypes]int // length of a new map; -1: updated in place
	for i := range in.types {
		fresh[i] = in.chunkCounts[i]
		if c.committedIndex[i] >= 0 {
			if old := types[c.committedIndex[i]].Chunks; old != nil && in.chunkCounts[i] <= cap(old) {
				fresh[i] = -1
			}
		}
	}
	getChunkMaps(fresh[:len(in.types)], maps[:len(in.types)])
	for i, nt := range in.types {
		n := in.chunkCounts[i]
		var old []Chunk
		if c.committedIndex[i] >= 0 {
			old = types[c.committedIndex[i]].Chunks
		}
		// Entries fill every chunk past the old length.
		if fresh[i] < 0 {
			nt.Chunks = old[:n]
		} else {
			nt.Chunks = maps[i]
			copy(nt.Chunks, old)
			putChunks(old) // nothing else refers to it during the replay
		}
		if c.committedIndex[i] >= 0 {
			types[c.committedIndex[i]] = nt
		} else {
			types = append(types, nt)
		}
		maps[i] = nt.Chunks
	}
	for _, p := range in.raw {
		for ; len(p) >= intentEntrySize; p = p[intentEntrySize:] {
			e := p[:intentEntrySize]
			t := e[ieType]
			if t == SpareType {
				if spares != nil {
					spares.add(le.Uint32(e[ieBlock:])) // erased with its window, still free
				}
				continue
			}
			ch := &maps[(c.position[t]-1)&(maxTypes-1)][le.Uint32(e[ieIndex:])]
			ch.Block = le.Uint32(e[ieBlock:])
			ch.Check = le.Uint64(e[ieCheck:])
			ch.Digest = Digest(e[ieDigest:])
		}
	}
	sortTypes(types)
	return types, nil
}

// applyIntentDecoded is applyIntent on a copy of in whose entries are all
// decoded.
func (s *Store) applyIntentDecoded(in *intent) ([]TypeState, error) {
	d := *in
	d.entries = slices.Clone(in.entries)
	d.decodeRaw()
	return s.applyIntent(&d)
}

// applyIntent returns the committed types after applying in to s.committed.
func (s *Store) applyIntent(in *intent) ([]TypeState, error) {
	types := make([]TypeState, 0, len(s.committed.Types)+len(in.types))
	types = append(types, s.committed.Types...)
	// slot[t] is the index in types of the new state of type t, + 1.
	var slot [256]int
	var have [256][]bool
	for i, nt := range in.types {
		n := in.chunkCounts[i]
		var old []Chunk
		idx := -1
		for j := range types {
			if types[j].Type == nt.Type {
				idx = j
				old = types[j].Chunks
			}
		}
		chunks := make([]Chunk, n)
		h := make([]bool, n)
		k := copy(chunks, old)
		for j := range k {
			h[j] = true
		}
		nt.Chunks = chunks
		if idx >= 0 {
			types[idx] = nt
		} else {
			types = append(types, nt)
			idx = len(types) - 1
		}
		slot[nt.Type] = idx + 1
		have[nt.Type] = h
	}
	for _, x := range in.entries {
		if x.Type == SpareType {
			continue
		}
		k := slot[x.Type]
		if k == 0 {
			return nil, fmt.Errorf("%w: intent writes a chunk of type %d it does not describe", ErrCorrupt, x.Type)
		}
		t := &types[k-1]
		if int(x.Index) >= len(t.Chunks) {
			return nil, fmt.Errorf("%w: intent writes chunk %d of type %d beyond its %d chunks", ErrCorrupt, x.Index, x.Type, len(t.Chunks))
		}
		t.Chunks[x.Index] = Chunk{Block: x.Block, Check: x.Check, Digest: x.Digest}
		have[x.Type][x.Index] = true
	}
	for _, nt := range in.types {
		for j, ok := range have[nt.Type] {
			if !ok {
				return nil, fmt.Errorf("%w: type %d chunk %d has no block", ErrCorrupt, nt.Type, j)
			}
		}
	}
	sortTypes(types)
	return types, nil
}

func sortTypes(ts []TypeState) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Type < ts[j-1].Type; j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}
