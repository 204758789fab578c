package store

import (
	"fmt"
	"math/bits"
	"slices"
	"sync"

	"github.com/cmcsync/cmcsync/hal"
)

// entryPool recycles the intent entry lists a replay decodes and then
// consumes (a round's intent, once its commit is replayed): opening a
// store that holds a full sync's intent decodes thousands of entries.
var entryPools [32]sync.Pool // *[]IntentEntry of capacity 1<<class

func entryClass(n int) int { return bits.Len(uint(max(n, 1) - 1)) }

// getEntries returns an empty list with room for at least n entries.
func getEntries(n int) []IntentEntry {
	c := entryClass(n)
	if c >= len(entryPools) {
		return make([]IntentEntry, 0, n)
	}
	if v, ok := entryPools[c].Get().(*[]IntentEntry); ok {
		return (*v)[:0]
	}
	return make([]IntentEntry, 0, 1<<c)
}

// putEntries gives e back for reuse; the caller must not use it again.
func putEntries(e []IntentEntry) {
	c := entryClass(cap(e))
	if cap(e) == 0 || cap(e) != 1<<c || c >= len(entryPools) {
		return
	}
	entryPools[c].Put(&e)
}

// chunkPools recycle chunk maps by power-of-two capacity class, and
// flagPool the per-data-block flag slices, between a store given back with
// Release and the stores opened after it (a campaign opens thousands).
var (
	chunkPools [32]sync.Pool // *[]Chunk of capacity 1<<class
	flagPool   sync.Pool     // *[]bool
)

// getChunks returns a chunk map of length n; its contents are
// unspecified (the caller fills every chunk).
func getChunks(n int) []Chunk {
	c := entryClass(n)
	if c >= len(chunkPools) {
		return make([]Chunk, n)
	}
	if v, ok := chunkPools[c].Get().(*[]Chunk); ok {
		return (*v)[:n]
	}
	return make([]Chunk, n, 1<<c)
}

func putChunks(cs []Chunk) {
	c := entryClass(cap(cs))
	if cap(cs) == 0 || cap(cs) != 1<<c || c >= len(chunkPools) {
		return
	}
	chunkPools[c].Put(&cs)
}

// getFlags returns n false flags.
func getFlags(n int) []bool {
	if v, ok := flagPool.Get().(*[]bool); ok && len(*v) == n {
		clear(*v)
		return *v
	}
	return make([]bool, n)
}

func putFlags(f []bool) {
	if len(f) > 0 {
		flagPool.Put(&f)
	}
}

// blockBufs hands out erase-block-sized buffers carved from pooled slabs
// of slabBlocks blocks, so that opening a store (thousands of times in a
// fault campaign) allocates almost nothing for the journal it reads.
// Buffers are valid until release; their contents are unspecified.
type blockBufs struct {
	e     int64
	slabs []*[]byte
	cur   []byte
}

const slabBlocks = 16

var slabPool sync.Pool // *[]byte of any length; get checks the size

func (b *blockBufs) get() []byte {
	if int64(len(b.cur)) < b.e {
		want := int(b.e) * slabBlocks
		var sp *[]byte
		if v, ok := slabPool.Get().(*[]byte); ok && len(*v) == want {
			sp = v
		} else {
			x := make([]byte, want)
			sp = &x
		}
		b.slabs = append(b.slabs, sp)
		b.cur = *sp
	}
	x := b.cur[:b.e:b.e]
	b.cur = b.cur[b.e:]
	return x
}

// release gives every slab back; no buffer from b may be used after it.
func (b *blockBufs) release() {
	for _, sp := range b.slabs {
		slabPool.Put(sp)
	}
	b.slabs, b.cur = nil, nil
}

// areaScan is what scanning one journal area found.
type areaScan struct {
	recs    []record
	tailBlk int64 // where the next record goes
	tailOff int64
	damaged []string
	dirty   bool // damage: compact before appending
	torn    bool // the journal ends with a torn (invalid) write
	// tailReady: the tail block reads erased from the tail offset on.
	tailReady bool
}

// scanArea reads area a from its first block: records in sequence-number
// order, following the writer's rule that a record which does not fit (or
// follows a torn write) starts at the next block. It reads only the blocks
// in use and the one after them.
func (s *Store) scanArea(a int, bufs *blockBufs) (*areaScan, error) {
	k := int64(s.sb.JournalBlocks)
	base := s.areaOff(a)
	res := &areaScan{}
	buf := bufs.get()
	next := bufs.get()
	if _, err := s.f.ReadAt(buf, base); err != nil {
		return nil, fmt.Errorf("read journal area %d: %w", a, err)
	}
	var expect uint64
	started := false
	bi := int64(0)
	so := int64(0)
	for {
		for so < s.e {
			r, st := parseRecord(buf[so:], s.slot, s.opts.TrustRecords)
			if st != parseOK || (started && r.seq != expect) {
				break
			}
			r.off = base + bi*s.e + so
			res.recs = append(res.recs, r)
			expect = r.seq + 1
			started = true
			so += r.size
		}
		if !started {
			return res, nil
		}
		clean := so >= s.e || hal.IsErased(buf[so:])
		if !clean {
			// Torn tail or damage: damage if a later valid record follows.
			for p := so + s.slot; p < s.e; p += s.slot {
				if r, st := parseRecord(buf[p:], s.slot, s.opts.TrustRecords); st == parseOK && r.seq >= expect {
					res.damaged = append(res.damaged, fmt.Sprintf("journal record %d at %#x is damaged; later records ignored", expect, base+bi*s.e+so))
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
			if _, err := s.f.ReadAt(next, base+nb*s.e); err != nil {
				return nil, fmt.Errorf("read journal area %d: %w", a, err)
			}
			r, st := parseRecord(next, s.slot, s.opts.TrustRecords)
			switch {
			case st == parseOK && r.seq == expect:
				found = true
			case st == parseOK && r.seq > expect:
				res.damaged = append(res.damaged, fmt.Sprintf("journal records %d..%d missing before %#x; later records ignored", expect, r.seq-1, base+nb*s.e))
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
		if clean && so < s.e {
			res.tailBlk, res.tailOff, res.tailReady = bi, so, true
		} else {
			res.tailBlk, res.tailOff, res.tailReady = bi+1, 0, nextErased
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
	bufs := &blockBufs{e: s.e}
	defer bufs.release()
	hdr := bufs.get()
	for a := 0; a < 2; a++ {
		if _, err := s.f.ReadAt(hdr[:min(s.e, 1024)], s.areaOff(a)); err != nil {
			return fmt.Errorf("read journal area %d: %w", a, err)
		}
		r, st := parseRecord(hdr[:min(s.e, 1024)], s.slot, s.opts.TrustRecords)
		if st != parseOK || r.kind != kindCkptBegin || len(r.body) < 8 {
			// A checkpoint-begin larger than 1 KiB: read the whole block.
			if _, err := s.f.ReadAt(hdr, s.areaOff(a)); err != nil {
				return fmt.Errorf("read journal area %d: %w", a, err)
			}
			r, st = parseRecord(hdr, s.slot, s.opts.TrustRecords)
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
		if err := s.replay(sc.recs, c.epoch); err != nil {
			errs = append(errs, fmt.Errorf("journal area %d (epoch %d): %w", c.a, c.epoch, err))
			continue
		}
		if i > 0 {
			s.damage = append(s.damage, fmt.Sprintf("newer journal area %d unusable (%v); using area %d", cands[0].a, errs[0], c.a))
			sc.dirty = true
		}
		s.damage = append(s.damage, sc.damaged...)
		s.area, s.epoch = c.a, c.epoch
		s.tailBlk, s.tailOff, s.tailReady = sc.tailBlk, sc.tailOff, sc.tailReady
		if s.tailOff > 0 {
			// What follows the last valid record may have been touched
			// by a torn write whose weak bits read as erased: append in a
			// fresh block, erased first.
			s.tailBlk, s.tailOff = s.tailBlk+1, 0
		}
		s.tailReady = false
		s.records = len(sc.recs)
		s.torn = sc.torn
		s.needComp = sc.dirty || s.tailBlk >= int64(s.sb.JournalBlocks)
		if n := len(sc.recs); n > 0 {
			s.lastRec = sc.recs[n-1]
			s.lastRec.body = slices.Clone(s.lastRec.body)
			s.nextSeq = s.lastRec.seq + 1
		}
		// The log keeps where each record is, not its body (the bodies
		// point into bufs).
		for i := range sc.recs {
			sc.recs[i].body = nil
		}
		s.log = sc.recs
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
	d := dec{b: recs[0].body}
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
		if n > int(s.sb.DataBlocks) {
			return fmt.Errorf("%w: checkpoint type %d has %d chunks", ErrCorrupt, t.Type, n)
		}
		t.Chunks = getChunks(n)[:0]
		st.Types = append(st.Types, t)
		nchunks[i] = n
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
		d := dec{b: r.body}
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
			if c.Block >= s.sb.DataBlocks {
				return fmt.Errorf("%w: checkpoint maps a chunk to block %d of %d", ErrCorrupt, c.Block, s.sb.DataBlocks)
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
	if ed := (dec{b: end.body}); end.kind != kindCkptEnd || ed.u64() != epoch || int(ed.u32()) != nrec {
		return fmt.Errorf("%w: checkpoint end record missing", ErrCorrupt)
	}
	s.st, s.staged, s.cursor, s.wraps = st, staged, cursor, wraps
	s.pending, s.purged = nil, nil
	s.erased = getFlags(int(s.sb.DataBlocks))
	if wraps == 0 {
		for b := int(cursor); b < len(s.erased); b++ {
			s.erased[b] = true
		}
	}
	// Deltas.
	for _, r := range recs[2+nrec:] {
		if err := s.apply(r); err != nil {
			s.damage = append(s.damage, fmt.Sprintf("journal record %d (%s): %v; later records ignored", r.seq, kindName(r.kind), err))
			break
		}
	}
	s.rebuildLive()
	return nil
}

func (s *Store) rebuildLive() {
	s.live = getFlags(int(s.sb.DataBlocks))
	for i := range s.st.Types {
		for _, c := range s.st.Types[i].Chunks {
			s.live[c.Block] = true
			s.erased[c.Block] = false
		}
	}
}

// apply replays one delta record onto the in-memory state.
func (s *Store) apply(r record) error {
	switch r.kind {
	case kindIntent:
		in, err := decodeIntentHead(r.body)
		if err != nil {
			return err
		}
		in.seq = r.seq
		perRec := int((s.e - recordOverhead - 16) / intentEntrySize)
		in.entries = getEntries(min(in.parts*perRec, int(s.sb.DataBlocks)))
		if s.pending != nil {
			// A second intent without purge or commit: the first one's
			// blocks still need purging; keep both lists.
			in.entries = append(in.entries, s.pending.entries...)
			putEntries(s.pending.entries)
		}
		s.pending = in
		s.cursor, s.wraps = in.cursor, in.wraps
	case kindIntentChunk:
		if s.pending == nil {
			return fmt.Errorf("%w: intent chunks without an intent", ErrCorrupt)
		}
		old := len(s.pending.entries)
		gen, entries, err := decodeIntentChunks(r.body, s.pending.entries)
		if err != nil {
			return err
		}
		if gen != s.pending.gen {
			s.pending.entries = entries[:old]
			return fmt.Errorf("%w: intent chunks for generation %d without its intent", ErrCorrupt, gen)
		}
		for i := old; i < len(entries); i++ {
			x := &entries[i]
			if x.Block >= s.sb.DataBlocks {
				s.pending.entries = entries[:old]
				return fmt.Errorf("%w: intent names block %d of %d", ErrCorrupt, x.Block, s.sb.DataBlocks)
			}
			s.erased[x.Block] = false
		}
		s.pending.entries = entries
		s.pending.got++
	case kindCommit:
		c, err := decodeCommit(r.body)
		if err != nil {
			return err
		}
		if c.state.Generation <= s.st.Generation {
			return fmt.Errorf("%w: commit of generation %d after %d", ErrCorrupt, c.state.Generation, s.st.Generation)
		}
		next := c.state
		if c.intentSeq != 0 {
			in := s.pending
			if in == nil || in.seq != c.intentSeq || in.gen != next.Generation || in.got != in.parts || c.parts != in.parts {
				return fmt.Errorf("%w: commit of generation %d without its complete intent", ErrCorrupt, next.Generation)
			}
			types, err := s.applyIntentOwned(in)
			if err != nil {
				return err
			}
			next.Types = types
			for i := range in.entries {
				x := &in.entries[i]
				if x.Type == SpareType {
					s.erased[x.Block] = true // erased with its window, still free
				}
			}
		} else {
			if s.pending != nil {
				return fmt.Errorf("%w: commit of generation %d while a round is pending", ErrCorrupt, next.Generation)
			}
			next.Types = s.st.Types
		}
		s.st = next
		s.staged = nil
		if s.pending != nil {
			// Consumed: nothing refers to the entries any more (a
			// store hands out only copies of them).
			putEntries(s.pending.entries)
		}
		s.pending = nil
	case kindPurged:
		d := dec{b: r.body}
		gen, seq := d.u64(), d.u64()
		if d.bad || s.pending == nil || s.pending.gen != gen || s.pending.seq != seq {
			return fmt.Errorf("%w: purged mark for generation %d without its intent", ErrCorrupt, gen)
		}
		for i := range s.pending.entries {
			x := &s.pending.entries[i]
			s.erased[x.Block] = true // live blocks are cleared again after the replay
		}
		s.purged, s.pending = s.pending, nil
		s.staged = nil // purge-then-reinit: back to the committed config
	case kindStaged:
		d := dec{b: r.body}
		c := d.config()
		if d.bad {
			return fmt.Errorf("%w: staged config truncated", ErrCorrupt)
		}
		s.staged = &c
	case kindRole:
		d := dec{b: r.body}
		ro := d.role()
		if d.bad {
			return fmt.Errorf("%w: role record truncated", ErrCorrupt)
		}
		s.st.Role = ro
	default:
		return fmt.Errorf("%w: unexpected %s record", ErrCorrupt, kindName(r.kind))
	}
	return nil
}

// applyIntentOwned is applyIntent for the replay, where nothing outside
// the store refers to s.st's chunk maps yet: it checks everything first,
// then updates the maps in place (no copy of every type's map per
// commit). On error s.st is unchanged, and the error is the one
// applyIntent would return.
func (s *Store) applyIntentOwned(in *intent) ([]TypeState, error) {
	// idx[i] is the index in s.st.Types of in.types[i], -1 if new.
	var idx [maxTypes + 1]int
	var described [256]bool
	var count [256]int
	var oldLen [256]int
	if len(in.types) > len(idx) {
		return s.applyIntent(in)
	}
	for i, nt := range in.types {
		if described[nt.Type] {
			return s.applyIntent(in) // a type listed twice: the general path
		}
		described[nt.Type] = true
		count[nt.Type] = in.nchunks[i]
		idx[i] = -1
		for j := range s.st.Types {
			if s.st.Types[j].Type == nt.Type {
				idx[i] = j
			}
		}
		if idx[i] >= 0 {
			oldLen[nt.Type] = min(len(s.st.Types[idx[i]].Chunks), in.nchunks[i])
		}
	}
	// Check: every entry names a described type and a chunk within it,
	// and every chunk beyond the old map gets a block.
	var grown [256][]bool
	for i, nt := range in.types {
		if n := in.nchunks[i]; n > oldLen[nt.Type] {
			grown[nt.Type] = make([]bool, n-oldLen[nt.Type])
		}
	}
	for i := range in.entries {
		x := &in.entries[i]
		if x.Type == SpareType {
			continue
		}
		if !described[x.Type] {
			return nil, fmt.Errorf("%w: intent writes a chunk of type %d it does not describe", ErrCorrupt, x.Type)
		}
		if int(x.Index) >= count[x.Type] {
			return nil, fmt.Errorf("%w: intent writes chunk %d of type %d beyond its %d chunks", ErrCorrupt, x.Index, x.Type, count[x.Type])
		}
		if k := int(x.Index) - oldLen[x.Type]; k >= 0 {
			grown[x.Type][k] = true
		}
	}
	for _, nt := range in.types {
		for j, ok := range grown[nt.Type] {
			if !ok {
				return nil, fmt.Errorf("%w: type %d chunk %d has no block", ErrCorrupt, nt.Type, oldLen[nt.Type]+j)
			}
		}
	}
	// Apply.
	types := s.st.Types
	var slot [256]int
	for i, nt := range in.types {
		n := in.nchunks[i]
		var old []Chunk
		if idx[i] >= 0 {
			old = types[idx[i]].Chunks
		}
		if old != nil && n <= cap(old) {
			nt.Chunks = old[:n] // entries fill every chunk past the old length
		} else {
			nt.Chunks = getChunks(n) // entries fill every chunk past the old length
			copy(nt.Chunks, old)
		}
		if idx[i] >= 0 {
			types[idx[i]] = nt
			slot[nt.Type] = idx[i] + 1
		} else {
			types = append(types, nt)
			slot[nt.Type] = len(types)
		}
	}
	for i := range in.entries {
		x := &in.entries[i]
		if x.Type == SpareType {
			continue
		}
		types[slot[x.Type]-1].Chunks[x.Index] = Chunk{Block: x.Block, Check: x.Check, Digest: x.Digest}
	}
	sortTypes(types)
	return types, nil
}

// applyIntent returns the committed types after applying in to s.st.
func (s *Store) applyIntent(in *intent) ([]TypeState, error) {
	types := make([]TypeState, 0, len(s.st.Types)+len(in.types))
	types = append(types, s.st.Types...)
	// slot[t] is the index in types of the new state of type t, + 1.
	var slot [256]int
	var have [256][]bool
	for i, nt := range in.types {
		n := in.nchunks[i]
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
