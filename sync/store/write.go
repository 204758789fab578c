package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/cmcsync/cmcsync/hal"
)

// fits reports whether records of the given padded sizes fit in the
// current area after the tail.
func (s *Store) fits(sizes []int64) bool {
	if s.mustCompact {
		return false
	}
	blk, off := s.tailBlock, s.tailOffset
	for _, n := range sizes {
		if off+n > s.eraseSize {
			blk, off = blk+1, 0
		}
		off += n
	}
	return blk < int64(s.layout.JournalBlocks)
}

// ensureRoom compacts the journal if the records do not fit. It must only
// be called when no round is pending (a checkpoint holds committed state
// only).
func (s *Store) ensureRoom(sizes []int64) error {
	if s.fits(sizes) {
		return nil
	}
	if s.pending != nil || s.round != nil {
		return fmt.Errorf("journal full while a round is pending")
	}
	if err := s.compact(); err != nil {
		return err
	}
	if !s.fits(sizes) {
		return fmt.Errorf("journal area of %d blocks too small for %d records", s.layout.JournalBlocks, len(sizes))
	}
	return nil
}

// writeRecords appends encoded records (already numbered from s.nextSeq) at
// the tail, one program per erase block they occupy.
func (s *Store) writeRecords(recs [][]byte) error {
	if s.opts.ReadOnly {
		return ErrReadOnly
	}
	sizes := make([]int64, len(recs))
	for i, r := range recs {
		sizes[i] = int64(len(r))
	}
	if !s.fits(sizes) {
		return fmt.Errorf("journal full")
	}
	i := 0
	for i < len(recs) {
		if s.tailOffset+int64(len(recs[i])) > s.eraseSize {
			s.tailBlock, s.tailOffset, s.tailReady = s.tailBlock+1, 0, false
		}
		if !s.tailReady {
			if err := s.enterBlock(s.tailBlock); err != nil {
				return err
			}
		}
		// Batch the records that fit in this block into one program.
		var buf []byte
		j := i
		off := s.tailOffset
		for j < len(recs) && off+int64(len(recs[j])) <= s.eraseSize {
			buf = append(buf, recs[j]...)
			off += int64(len(recs[j]))
			j++
		}
		at := s.areaOff(s.area) + s.tailBlock*s.eraseSize + s.tailOffset
		if _, err := s.flash.WriteAt(buf, at); err != nil {
			// Whatever landed is torn. After records in this block, the
			// journal continues in the next block (a reader looks there
			// after a torn tail). A failed program at the start of a block
			// may have left it blank, which a reader takes for the end of
			// the journal: the block is erased again and written from its
			// start instead.
			s.windowEnd = 0
			if s.tailOffset > 0 {
				s.tailBlock, s.tailOffset = s.tailBlock+1, 0
			}
			s.tailReady = false
			return err
		}
		last := recs[j-1]
		lastOff := at + int64(len(buf)-len(last))
		s.lastRecord = record{kind: last[4], seq: le.Uint64(last[12:]), body: last[recordHeader : len(last)-4], size: int64(len(last)), off: lastOff}
		s.tailOffset = off
		s.nextSeq += uint64(j - i)
		i = j
	}
	return nil
}

// enterBlock makes journal block blk of the current area ready for
// records by erasing it. It erases even a block that reads erased: after a
// compaction, blocks past the checkpoint hold stale records; after a torn
// write or erase, cells may be weakly programmed and read as erased one
// time and not the next, so a read cannot prove a block erased.
//
// On NOR with blocks smaller than 64 KiB, a block that starts an erase
// window with the whole window inside the area is erased with its window
// (one block erase, as the data area's rounds do) when an earlier pass of
// the journal used the whole window (its last block does not read erased):
// the tail then enters the window's later blocks without an erase, as this
// session erased them and nothing wrote them since (the tail only moves
// forward; a restart, a compaction or a failed write forgets the window,
// and the blocks are erased again). A journal block then costs 1/16 of a
// block erase instead of a sector erase, which is most of a small round's
// time. A window whose last block reads erased is young (never filled
// since the format): its blocks are erased one by one, as the tail enters
// them, rather than erasing blank ones.
func (s *Store) enterBlock(blk int64) error {
	if s.windowEnd > 0 && s.windowArea == s.area && blk < s.windowEnd {
		s.tailReady = true
		return nil
	}
	s.windowEnd = 0
	off, n := s.areaOff(s.area)+blk*s.eraseSize, int64(1)
	if w := int64(s.windowBlocks()); w > 1 && off%eraseWindow == 0 && blk+w <= int64(s.layout.JournalBlocks) {
		used, err := s.blockUsed(off + (w-1)*s.eraseSize)
		if err != nil {
			return err
		}
		if used {
			n = w
		}
	}
	if err := s.flash.Erase(off, n*s.eraseSize); err != nil {
		return err
	}
	if n > 1 {
		s.windowArea, s.windowEnd = s.area, blk+n
	}
	s.tailReady = true
	return nil
}

// blockUsed reports whether the block at off does not read erased.
func (s *Store) blockUsed(off int64) (bool, error) {
	buf := make([]byte, s.eraseSize)
	if _, err := s.flash.ReadAt(buf, off); err != nil {
		return false, err
	}
	return !hal.IsErased(buf), nil
}

// appendRecord writes one record, compacting first if the area is full.
func (s *Store) appendRecord(kind uint8, body []byte) error {
	if s.opts.ReadOnly {
		return ErrReadOnly
	}
	if s.pending == nil && s.round == nil {
		if err := s.ensureRoom([]int64{recordSize(len(body), s.slotSize)}); err != nil {
			return err
		}
	}
	return s.writeRecords([][]byte{encodeRecord(kind, s.nextSeq, body, s.slotSize)})
}

// compact writes a checkpoint of the committed state into the other
// journal area (after erasing it) and switches to it. A power loss before
// the checkpoint's end record leaves the current area in charge.
func (s *Store) compact() error {
	if s.opts.ReadOnly {
		return ErrReadOnly
	}
	other := 1 - s.area
	epoch := s.epoch + 1
	recs := checkpointRecords(&s.layout, epoch, s.nextSeq, &s.committed, s.staged, s.cursor, s.wraps)
	img, blk, off := layoutRecords(recs, s.eraseSize)
	base := s.areaOff(other)
	// Erase only the blocks the checkpoint needs; later blocks are erased
	// one by one as the journal enters them.
	if err := s.flash.Erase(base, (blk+1)*s.eraseSize); err != nil {
		return fmt.Errorf("compact journal: %w", err)
	}
	for i := int64(0); i*s.eraseSize < int64(len(img)); i++ {
		b := trimFF(img[i*s.eraseSize:min((i+1)*s.eraseSize, int64(len(img)))], s.slotSize)
		if len(b) == 0 {
			continue
		}
		if _, err := s.flash.WriteAt(b, base+i*s.eraseSize); err != nil {
			return fmt.Errorf("compact journal: %w", err)
		}
	}
	last := recs[len(recs)-1]
	s.lastRecord = record{kind: last[4], seq: le.Uint64(last[12:]), body: last[recordHeader : len(last)-4], size: int64(len(last)), off: base + blk*s.eraseSize + off - int64(len(last))}
	s.area, s.epoch = other, epoch
	s.nextSeq += uint64(len(recs))
	s.tailBlock, s.tailOffset, s.tailReady = blk, off, true
	s.windowEnd = 0
	s.mustCompact = false
	return nil
}

// SetVerify turns read-back verification of written chunks on or off.
func (s *Store) SetVerify(v bool) { s.opts.Verify = v }

// Compact forces a journal compaction (normally automatic when an area
// fills). It fails while a round is pending.
func (s *Store) Compact() error {
	if s.pending != nil || s.round != nil {
		return ErrPending
	}
	return s.compact()
}

// StageConfig stores c as the configuration in effect until the next
// commit (which records it with its generation). A purge-then-reinit drops
// it in favour of the last committed configuration.
func (s *Store) StageConfig(c Config) error {
	if s.opts.ReadOnly {
		return ErrReadOnly
	}
	if s.pending != nil {
		return ErrPending
	}
	var e enc
	e.config(c)
	if err := s.appendRecord(kindStaged, e.buf); err != nil {
		return fmt.Errorf("stage config: %w", err)
	}
	cc := c.clone()
	s.staged = &cc
	return nil
}

// SetRole stores the active role durably (a failover).
func (s *Store) SetRole(r Role) error {
	var e enc
	e.role(r)
	if err := s.appendRecord(kindRole, e.buf); err != nil {
		return fmt.Errorf("store role: %w", err)
	}
	s.committed.Role = r
	return nil
}

// PurgeResult says what a purge did.
type PurgeResult struct {
	Generation uint64
	Blocks     []uint32
	Erased     int // blocks erased (all of them, unless retired)
}

// Purge deletes what the interrupted round wrote (and drops a staged
// configuration: reinit returns to the committed one): every data block its
// intent names is erased and read back to confirm it is erased
// (ErrPurgeFailed otherwise). Only then is
// the purged mark appended. Blocks of the committed generation are never
// touched. Without an interrupted round it does nothing.
func (s *Store) Purge() (PurgeResult, error) {
	in := s.pending
	if in == nil {
		return PurgeResult{}, nil
	}
	if s.opts.ReadOnly {
		return PurgeResult{}, ErrReadOnly
	}
	res := PurgeResult{Generation: in.generation, Blocks: in.blocks()}
	if !s.opts.SkipPurgeErase {
		bufs := &blockBufs{blockSize: s.eraseSize}
		defer bufs.release()
		buf := bufs.get()
		for _, b := range res.Blocks {
			if s.live.has(b) {
				// Only a damaged intent names a committed block: never
				// erase committed data.
				s.damage = append(s.damage, fmt.Sprintf("interrupted round %d names block %d of the committed generation; not purged", in.generation, b))
				continue
			}
			if err := s.eraseVerified(b, buf, &res); err != nil {
				return res, err
			}
		}
	}
	var e enc
	e.u64(in.generation)
	e.u64(in.seq)
	s.round = nil
	s.pending = nil
	staged := s.staged
	s.staged = nil // reinit: back to the committed configuration
	var err error
	if s.fits([]int64{recordSize(len(e.buf), s.slotSize)}) {
		err = s.writeRecords([][]byte{encodeRecord(kindPurged, s.nextSeq, e.buf, s.slotSize)})
	} else {
		// A checkpoint of the committed state in the other area supersedes
		// the intent and the mark (which could not refer to it there).
		err = s.compact()
	}
	if err != nil {
		s.pending, s.staged = in, staged
		return res, fmt.Errorf("write purged mark: %w", err)
	}
	s.purged = in
	return res, nil
}

// eraseVerified erases data block b and reads it back to confirm it is
// erased, erasing at most three times. It always erases first: a block
// left by a torn erase or program may read as erased once and not the next
// time (weakly programmed cells), so a read alone proves nothing.
func (s *Store) eraseVerified(b uint32, buf []byte, res *PurgeResult) error {
	off := s.dataOff(b)
	for try := 0; ; try++ {
		if err := s.flash.Erase(off, s.eraseSize); err != nil {
			if s.retire(b, err) {
				return nil // unreachable and never used again
			}
			return fmt.Errorf("purge: erase block %d: %w", b, err)
		}
		if try == 0 {
			res.Erased++
		}
		if _, err := s.flash.ReadAt(buf, off); err != nil {
			return fmt.Errorf("purge: verify block %d: %w", b, err)
		}
		if hal.IsErased(buf) {
			s.erased.add(b)
			return nil
		}
		if try == 2 {
			return fmt.Errorf("%w: block %d at %#x", ErrPurgeFailed, b, off)
		}
	}
}

// retire takes data block b out of use if err says the block is worn out
// or bad (marking it bad on devices that keep bad-block marks), and
// reports whether it did.
func (s *Store) retire(b uint32, err error) bool {
	if !errors.Is(err, hal.ErrWornOut) && !errors.Is(err, hal.ErrBadBlock) {
		return false
	}
	if s.retired == nil {
		s.retired = map[uint32]bool{}
	}
	s.retired[b] = true
	_ = hal.MarkBad(s.flash, s.dataOff(b))
	s.damage = append(s.damage, fmt.Sprintf("data block %d at %#x retired: %v", b, s.dataOff(b), err))
	return true
}

// TypePlan is one type's new contents for a round: where the payload sits
// on the primary (Phase), its size, the primary record's sequence number and
// the digests of all its chunks (see ChunkCount).
type TypePlan struct {
	Type   uint8
	Phase  uint32
	Size   int64
	Seq    uint64
	Chunks []Digest
	// Checks are the chunks' ChunkCheck values (nil: computed by nobody,
	// stored as 0).
	Checks []uint64
}

// Plan is what a round syncs: the types whose contents it takes (others
// keep their committed data) and the configuration it runs with.
type Plan struct {
	Generation uint64
	Config     Config
	Types      []TypePlan
	// Rewrite forces chunks to be written even when their digests match
	// (after damage was found): chunk indices by type.
	Rewrite map[uint8][]int
}

// ChunkWrite is a chunk a round must write.
type ChunkWrite struct {
	Type  uint8
	Index int
	Block uint32
	done  bool
}

// Round is a sync round in progress: its intent is durable; chunks are
// written with Write, then Commit.
type Round struct {
	store         *Store
	intent        *intent // nil: nothing changed (commit only)
	writes        []ChunkWrite
	blocks        map[uint32]bool // the blocks of writes
	windowsErased map[uint32]bool // erase windows already entered
	types         []TypeState
	written       int
	done          bool
}

// Begin starts a round: it compares the plan's chunk digests with the
// committed generation, allocates free data blocks for the chunks that
// differ (rotating from the allocation cursor), and writes the intent — the
// "round in progress" mark listing every block the round may touch —
// before any data. If nothing differs, no intent is written and Commit
// writes only a commit record.
func (s *Store) Begin(p Plan) (*Round, error) {
	if s.opts.ReadOnly {
		return nil, ErrReadOnly
	}
	if s.pending != nil || s.round != nil {
		return nil, ErrPending
	}
	if p.Generation <= s.committed.Generation {
		return nil, fmt.Errorf("round generation %d is not after the committed %d", p.Generation, s.committed.Generation)
	}
	r := &Round{store: s}
	in := &intent{generation: p.Generation, config: p.Config.clone()}
	for _, tp := range p.Types {
		n := ChunkCount(tp.Size, int64(tp.Phase), s.eraseSize)
		if len(tp.Chunks) != n {
			return nil, fmt.Errorf("type %d: %d chunk digests for a %d-byte payload (want %d)", tp.Type, len(tp.Chunks), tp.Size, n)
		}
		if n > int(s.layout.MaxChunks) {
			return nil, fmt.Errorf("%w: type %d has %d chunks, the store was sized for %d", ErrFull, tp.Type, n, s.layout.MaxChunks)
		}
		meta := TypeState{Type: tp.Type, Phase: tp.Phase, Size: tp.Size, Seq: tp.Seq, Digest: PayloadDigest(tp.Size, tp.Chunks)}
		old, had := s.committed.Type(tp.Type)
		var changed []int
		for i, d := range tp.Chunks {
			if !had || old.Phase != tp.Phase || i >= len(old.Chunks) || old.Chunks[i].Digest != d || slices.Contains(p.Rewrite[tp.Type], i) {
				changed = append(changed, i)
			}
		}
		if had && len(changed) == 0 && old.Size == tp.Size && old.Phase == tp.Phase && old.Digest == meta.Digest {
			continue
		}
		in.types = append(in.types, meta)
		in.chunkCounts = append(in.chunkCounts, n)
		for _, i := range changed {
			x := IntentEntry{Type: tp.Type, Index: uint32(i), Digest: tp.Chunks[i]}
			if i < len(tp.Checks) {
				x.Check = tp.Checks[i]
			}
			in.entries = append(in.entries, x)
		}
	}
	if len(in.types) == 0 {
		s.round = r
		return r, nil
	}
	if err := s.allocate(in); err != nil {
		return nil, err
	}
	recs := intentRecords(&s.layout, s.nextSeq, in)
	sizes := make([]int64, 0, len(recs)+2)
	for _, b := range recs {
		sizes = append(sizes, int64(len(b)))
	}
	sizes = append(sizes, 2*s.slotSize, 2*s.slotSize, 2*s.slotSize, 2*s.slotSize) // commit, role (failover), purged mark, staged config
	if err := s.ensureRoom(sizes); err != nil {
		return nil, err
	}
	recs = intentRecords(&s.layout, s.nextSeq, in) // renumbered after a compaction
	in.seq = s.nextSeq
	in.parts = len(recs) - 1
	in.partsSeen = in.parts
	// From here the round is pending: a failed write leaves it to purge.
	s.pending = in
	s.round = r
	r.intent = in
	r.blocks = make(map[uint32]bool, len(in.entries))
	for _, x := range in.entries {
		r.blocks[x.Block] = true
		if x.Type != SpareType {
			r.writes = append(r.writes, ChunkWrite{Type: x.Type, Index: int(x.Index), Block: x.Block})
		}
	}
	if err := s.writeRecords(recs); err != nil {
		return r, fmt.Errorf("write intent: %w", err)
	}
	return r, nil
}

// allocate picks a free data block for every entry of in, from the cursor
// on, and advances the cursor.
func (s *Store) allocate(in *intent) error {
	n := s.layout.DataBlocks
	cur, wraps := s.cursor, s.wraps
	nand := s.flash.Geometry().Kind == hal.NAND
	group := s.windowBlocks()
	chunks := len(in.entries)
	used := make(map[uint32]bool, chunks+int(group))
	free := func(b uint32) bool {
		if s.live.has(b) || s.retired[b] || used[b] {
			return false
		}
		if nand { // a block can go bad after it was erased (kernel or factory marks)
			if bad, err := hal.IsBad(s.flash, s.dataOff(b)); err != nil || bad {
				return false
			}
		}
		return true
	}
	i := 0
	// Blocks known to be erased (spares of earlier erase windows, purged
	// blocks) cost no erase: use them first. Before the cursor has gone
	// round once, blocks at and after it are erased by construction and
	// taken in cursor order below.
	for k := uint32(0); k < n && i < chunks; k++ {
		b := (cur + k) % n
		if s.erased.has(b) && free(b) && (wraps > 0 || b < cur) {
			in.entries[i].Block = b
			used[b] = true
			i++
		}
	}
	for i < chunks {
		// A whole free erase window: one block erase for up to a window of
		// chunks; its other blocks become erased spares for later rounds.
		if w, ok := s.nextFreeWindow(cur, group, chunks-i, used); ok {
			if w < cur {
				wraps++
			}
			cur = w
			for k := range group {
				b := cur + k
				used[b] = true
				if i < chunks {
					in.entries[i].Block = b
					i++
				} else {
					in.entries = append(in.entries, IntentEntry{Type: SpareType, Block: b})
				}
			}
			cur += group
			if cur >= n {
				cur, wraps = 0, wraps+1
			}
			continue
		}
		found := false
		for tries := uint32(0); tries < n; tries++ {
			b := cur
			cur++
			if cur >= n {
				cur, wraps = 0, wraps+1
			}
			if !free(b) {
				continue
			}
			in.entries[i].Block = b
			used[b] = true
			found = true
			break
		}
		if !found {
			return fmt.Errorf("%w: no free block for chunk %d of %d", ErrFull, i, chunks)
		}
		i++
	}
	// Blocks must be distinct: the data area holds at least twice the
	// largest generation, so one pass suffices unless it wrapped onto itself.
	seen := make(map[uint32]bool, len(in.entries))
	for _, x := range in.entries {
		if seen[x.Block] {
			return fmt.Errorf("%w: round of %d chunks does not fit the free blocks", ErrFull, chunks)
		}
		seen[x.Block] = true
	}
	in.cursor, in.wraps = cur, wraps
	s.cursor, s.wraps = cur, wraps
	return nil
}

// SpareType marks an intent entry that is not a chunk but a spare block:
// erased with its erase window by the round, left free for later rounds.
const SpareType uint8 = 0

// minWindowChunks is the fewest chunks (not placed in known-erased
// blocks) for which a round takes a whole erase window. It is 1: even a
// one-chunk round erases a whole 64 KiB window. One block erase costs about
// as much as 3 (Winbond) to 10 (Macronix) sector erases, but the window's
// other blocks become erased spares that later rounds use without an
// erase, so each block costs 1/16 of a block erase — a quarter to a tenth
// of a sector erase — where a sector erase per block would cost the full
// sector time. Only when no wholly free window is left does a round erase
// single blocks.
const minWindowChunks = 1

// eraseWindow is the span a multi-block erase should cover so that SPI NOR
// drivers (and the simulator) use one 64 KiB block erase instead of
// sixteen 4 KiB sector erases.
const eraseWindow = 64 << 10

// windowBlocks returns how many data blocks make an erase window (0 when
// blocks are that large already).
func (s *Store) windowBlocks() uint32 {
	if s.eraseSize >= eraseWindow || s.flash.Geometry().Kind != hal.NOR {
		return 0
	}
	return uint32(eraseWindow / s.eraseSize)
}

// windowStart reports whether data block b starts an erase window on the
// chip.
func (s *Store) windowStart(b uint32) bool { return s.dataOff(b)%eraseWindow == 0 }

// nextFreeWindow returns the start of the first erase window at or after
// cur (wrapping once) whose blocks are all free and not taken, if a whole
// window's worth of chunks (need) remains to be placed.
func (s *Store) nextFreeWindow(cur, group uint32, need int, taken map[uint32]bool) (uint32, bool) {
	n := s.layout.DataBlocks
	if group <= 1 || need < minWindowChunks || n < group {
		return 0, false
	}
	b := cur
	for range n {
		if s.windowStart(b) && b+group <= n && s.windowFree(b, group) {
			ok := true
			for k := b; k < b+group; k++ {
				if taken[k] {
					ok = false
					break
				}
			}
			if ok {
				return b, true
			}
		}
		b++
		if b >= n {
			b = 0
		}
	}
	return 0, false
}

// windowFree reports whether the n blocks from b are all free.
func (s *Store) windowFree(b, n uint32) bool {
	for k := b; k < b+n; k++ {
		if s.live.has(k) || s.retired[k] {
			return false
		}
	}
	return true
}

// Writes returns the chunks the round must write, in order.
func (r *Round) Writes() []ChunkWrite { return slices.Clone(r.writes) }

// Remaining returns how many chunks are still to be written.
func (r *Round) Remaining() int { return len(r.writes) - r.written }

// Blocks returns the data blocks the round may touch (its intent).
func (r *Round) Blocks() []uint32 {
	if r.intent == nil {
		return nil
	}
	return r.intent.blocks()
}

// Generation returns the generation the round will commit.
func (r *Round) Generation() uint64 {
	if r.intent == nil {
		return 0
	}
	return r.intent.generation
}

// fullWindow returns the first block of b's erase window if every block
// of that window is written by this round.
func (r *Round) fullWindow(b uint32) (uint32, bool) {
	n := r.store.windowBlocks()
	if n <= 1 || r.blocks == nil {
		return 0, false
	}
	ws := b
	for ws > 0 && !r.store.windowStart(ws) {
		ws--
	}
	if !r.store.windowStart(ws) || ws+n > r.store.layout.DataBlocks {
		return 0, false
	}
	for k := ws; k < ws+n; k++ {
		if !r.blocks[k] {
			return 0, false
		}
	}
	return ws, true
}

// Write writes chunk i of Writes with data (its bytes from the payload):
// erases the block unless it is known to be erased, programs the pages that
// are not all 0xFF, and with Options.Verify reads it back. It returns the
// number of erases and page programs it issued.
func (r *Round) Write(i int, data []byte) (erases, pages int64, err error) {
	s := r.store
	if (r.done && !s.opts.EarlyCommit) || i < 0 || i >= len(r.writes) {
		return 0, 0, fmt.Errorf("chunk write %d out of range or round finished", i)
	}
	w := &r.writes[i]
	if int64(len(data)) > s.eraseSize {
		return 0, 0, fmt.Errorf("chunk of %d bytes exceeds the chunk size %d", len(data), s.eraseSize)
	}
	off := s.dataOff(w.Block)
	if ws, ok := r.fullWindow(w.Block); ok && !r.windowsErased[ws] {
		// The first write into an erase window whose blocks all belong to
		// the round (nothing of it is programmed yet): if any of them is
		// not known to be erased, erase the whole window in one operation
		// (a block erase).
		if r.windowsErased == nil {
			r.windowsErased = map[uint32]bool{}
		}
		r.windowsErased[ws] = true
		n := s.windowBlocks()
		dirty := false
		for k := ws; k < ws+n; k++ {
			dirty = dirty || !s.erased.has(k)
		}
		if dirty {
			if err := s.flash.Erase(s.dataOff(ws), int64(n)*s.eraseSize); err != nil {
				return 0, 0, err
			}
			for k := ws; k < ws+n; k++ {
				s.erased.add(k)
			}
			erases += int64(n)
		}
	}
	if !s.erased.has(w.Block) {
		if err := s.flash.Erase(off, s.eraseSize); err != nil {
			s.retire(w.Block, err)
			return 0, 0, err
		}
		erases++
	}
	s.erased.remove(w.Block)
	g := s.flash.Geometry()
	page := max(g.PageSize, g.WriteSize, 1)
	// Program runs of pages that are not all 0xFF.
	n := int64(len(data))
	for lo := int64(0); lo < n; {
		hi := min(lo+page, n)
		if hal.IsErased(data[lo:hi]) {
			lo = hi
			continue
		}
		end := hi
		for end < n && !hal.IsErased(data[end:min(end+page, n)]) {
			end = min(end+page, n)
		}
		buf := data[lo:end]
		if ws := g.WriteSize; ws > 1 && int64(len(buf))%ws != 0 {
			padded := make([]byte, (int64(len(buf))+ws-1)/ws*ws)
			copy(padded, buf)
			for k := len(buf); k < len(padded); k++ {
				padded[k] = 0xFF
			}
			buf = padded
		}
		if _, err := s.flash.WriteAt(buf, off+lo); err != nil {
			return erases, pages, err
		}
		pages += (int64(len(buf)) + page - 1) / page
		lo = end
	}
	if s.opts.Verify {
		back := make([]byte, len(data))
		if _, err := s.flash.ReadAt(back, off); err != nil {
			return erases, pages, err
		}
		if !bytes.Equal(back, data) {
			return erases, pages, fmt.Errorf("%w: chunk %d of type %d in block %d", ErrVerify, w.Index, w.Type, w.Block)
		}
	}
	if !w.done {
		w.done = true
		r.written++
	}
	return erases, pages, nil
}

// Commit writes the commit record: from then on the round's generation is
// the committed one. st supplies the generation's head fields (time, next
// sync, config, image version, upgrade choice, group cursor, role); its
// Types are ignored. All chunks must have been written.
func (r *Round) Commit(st State) error {
	s := r.store
	if r.done {
		return fmt.Errorf("round already finished")
	}
	if r.written != len(r.writes) && !s.opts.EarlyCommit {
		return fmt.Errorf("commit with %d of %d chunks written", r.written, len(r.writes))
	}
	next := st
	next.Types = nil
	var intentSeq uint64
	parts := 0
	if r.intent != nil {
		intentSeq, parts = r.intent.seq, r.intent.parts
		next.Generation = r.intent.generation
	}
	if next.Generation <= s.committed.Generation {
		return fmt.Errorf("commit generation %d is not after %d", next.Generation, s.committed.Generation)
	}
	body := encodeCommit(intentSeq, parts, &next)
	if r.intent == nil {
		if err := s.ensureRoom([]int64{recordSize(len(body), s.slotSize)}); err != nil {
			return err
		}
	}
	if err := s.writeRecords([][]byte{encodeRecord(kindCommit, s.nextSeq, body, s.slotSize)}); err != nil {
		return fmt.Errorf("write commit: %w", err)
	}
	if r.intent != nil {
		types, err := s.applyIntent(r.intent)
		if err != nil {
			return err
		}
		next.Types = types
	} else {
		next.Types = s.committed.Types
	}
	s.committed = next
	s.staged = nil
	s.pending = nil
	s.round = nil
	r.done = true
	s.rebuildLive()
	return nil
}

// Abandon forgets the round in memory without writing anything: its intent
// stays durable, so Interrupted reports it and Purge deletes it.
func (r *Round) Abandon() {
	if r.store.round == r {
		r.store.round = nil
	}
	r.done = true
}

// ReadChunk reads chunk i of type t of the committed generation and checks
// its digest (unless the store trusts records).
func (s *Store) ReadChunk(t uint8, i int) ([]byte, error) {
	ts, ok := s.committed.Type(t)
	if !ok || i < 0 || i >= len(ts.Chunks) {
		return nil, fmt.Errorf("type %d chunk %d not in generation %d", t, i, s.committed.Generation)
	}
	lo, hi := ChunkBounds(ts.Size, int64(ts.Phase), s.eraseSize, i)
	p := make([]byte, hi-lo)
	c := ts.Chunks[i]
	if _, err := s.flash.ReadAt(p, s.dataOff(c.Block)); err != nil {
		return nil, err
	}
	if !s.opts.TrustRecords && ChunkDigest(p) != c.Digest {
		return p, fmt.Errorf("%w: type %d chunk %d (block %d at %#x) does not match its digest", ErrVerify, t, i, c.Block, s.dataOff(c.Block))
	}
	return p, nil
}

// ReadPayload reads type t's committed payload, checking every chunk.
func (s *Store) ReadPayload(t uint8) ([]byte, error) {
	ts, ok := s.committed.Type(t)
	if !ok {
		return nil, fmt.Errorf("type %d not in generation %d", t, s.committed.Generation)
	}
	out := make([]byte, 0, ts.Size)
	var firstErr error
	for i := range ts.Chunks {
		p, err := s.ReadChunk(t, i)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if p == nil {
			p = make([]byte, 0)
		}
		out = append(out, p...)
	}
	return out, firstErr
}

// ChunkError is a committed chunk that fails its digest.
type ChunkError struct {
	Type  uint8
	Index int
	Block uint32
	Err   error
}

// VerifyChunks reads every committed chunk (of the given types, or all if
// none) and returns those that do not match their digests.
func (s *Store) VerifyChunks(types ...uint8) []ChunkError {
	var bad []ChunkError
	for _, ts := range s.committed.Types {
		if len(types) > 0 && !slices.Contains(types, ts.Type) {
			continue
		}
		for i, c := range ts.Chunks {
			if _, err := s.ReadChunk(ts.Type, i); err != nil {
				bad = append(bad, ChunkError{Type: ts.Type, Index: i, Block: c.Block, Err: err})
			}
		}
	}
	return bad
}
