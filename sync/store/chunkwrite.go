// Writing one chunk of a round: making its data block known erased (an
// erase window, a read of a block not written since the format, or an
// erase), programming it, and reading it back before the round may commit
// (docs/FORMAT.md, States and transitions, "A round writes").

package store

import (
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
)

// Write writes chunk i of Writes with data (its bytes from the payload).
// The block is programmed only once it is known to be erased: erased by
// the store since it was last used (a spare of an erase window, a purged
// block), or not written since the format and read back as erased just
// now; any other block is erased first (with its whole erase window if
// every block of the window is the round's). Pages that are all 0xFF are
// not programmed. The chunk is then read back twice (a weakly programmed
// page reads right once) and compared with data and with the check (and,
// with Options.Verify, the digest) its intent recorded; if it does not
// read back right, the block is erased (and read back as erased) and the
// chunk programmed again, at most maxReprograms times. If it still does
// not, Write fails with ErrVerify — the round cannot
// commit; purge it, and the next round writes the chunk again — and the
// block is taken out of use for the life of the Store. It returns the
// number of erases and page programs it issued.
func (r *Round) Write(i int, data []byte) (erases, pages int64, err error) {
	s := r.store
	if (r.done && !s.opts.EarlyCommit && !s.opts.LateDeltas) || i < 0 || i >= len(r.writes) {
		return 0, 0, fmt.Errorf("chunk write %d out of range or round finished", i)
	}
	w := &r.writes[i]
	if w.Type == DeltaBlockType {
		data = r.intent.deltas[w.Index].data
	}
	if int64(len(data)) > s.eraseSize {
		return 0, 0, fmt.Errorf("chunk of %d bytes exceeds the chunk size %d", len(data), s.eraseSize)
	}
	if w.check != 0 && ChunkCheck(data) != w.check {
		return 0, 0, fmt.Errorf("%w: the bytes given for chunk %d of type %d are not those its intent recorded", ErrVerify, w.Index, w.Type)
	}
	if r.scratch == nil {
		r.scratch = make([]byte, s.eraseSize)
	}
	whole := r.verifiesWhole(w.Block, data)
	erases, err = r.prepareBlock(w.Block, whole)
	if err != nil {
		return erases, 0, err
	}
	off := s.dataOff(w.Block)
	var ok bool
	for try := 0; ; try++ {
		n, err := s.programChunk(off, data)
		pages += n
		if err != nil {
			return erases, pages, err
		}
		if ok, err = r.readsBack(w, data, whole); err != nil {
			return erases, pages, err
		}
		if ok || try == maxReprograms {
			break
		}
		// A weak program (or a block that was not erased): erase the
		// block again — it is the round's, named by its intent — and
		// program the chunk anew.
		if err := s.eraseChecked(off, s.eraseSize); err != nil {
			s.retire(w.Block, err)
			return erases, pages, err
		}
		erases++
	}
	if !ok {
		s.takeOutOfUse(w.Block, "a chunk programmed there did not read back as written")
		return erases, pages, fmt.Errorf("%w: chunk %d of type %d in data block %d at %#x does not read back as written (the block is taken out of use)", ErrVerify, w.Index, w.Type, w.Block, off)
	}
	if !w.done {
		w.done = true
		r.written++
	}
	if w.Type != DeltaBlockType {
		r.noteCommitted(w.Type, w.Index, data, true)
	}
	return erases, pages, nil
}

// prepareBlock makes data block b of the round known to be erased (see
// Write), and no longer counted as erased (it is about to be programmed).
// It returns the erases it issued. whole says the block is then
// read back twice whole on NOR (Round.verifiesWhole): an erase
// of b alone is then not read back, nor is a block EraseAhead erased
// without reading it — the two read-backs of the program catch an erase
// that did not run (docs/FORMAT.md, Verifying programs and erases).
func (r *Round) prepareBlock(b uint32, whole bool) (erases int64, err error) {
	s := r.store
	if ws, ok := r.fullWindow(b); ok && !r.windowsErased[ws] {
		// The first write into an erase window whose blocks all belong to
		// the round (nothing of it is programmed yet): if any of them is
		// not known to be erased, erase the whole window in one operation
		// (a block erase).
		if r.windowsErased == nil {
			r.windowsErased = map[uint32]bool{}
		}
		r.windowsErased[ws] = true
		n := s.windowBlocks()
		known := true
		for k := ws; k < ws+n && known; k++ {
			if s.erased.has(k) && s.unread.has(k) && !r.spares[k] {
				// Erased ahead and not read back: its own write checks
				// it (below, when the round writes it). A spare is read
				// now: the commit makes it known erased for good.
				continue
			}
			if known, err = r.knownErased(k); err != nil {
				return erases, err
			}
		}
		if !known {
			if err := s.eraseChecked(s.dataOff(ws), int64(n)*s.eraseSize); err != nil {
				return erases, err
			}
			for k := ws; k < ws+n; k++ {
				s.erased.add(k)
				s.unread.remove(k)
			}
			erases += int64(n)
		}
	}
	known := whole && s.erased.has(b) // read back unread or not: the program's read-backs catch it
	if !known {
		if known, err = r.knownErased(b); err != nil {
			return erases, err
		}
	}
	if !known {
		erase := s.eraseChecked
		if whole {
			erase = s.flash.Erase
		}
		if err := erase(s.dataOff(b), s.eraseSize); err != nil {
			s.retire(b, err)
			return erases, err
		}
		erases++
	}
	s.erased.remove(b)
	s.unread.remove(b)
	s.blank.remove(b)
	return erases, nil
}

// verifiesWhole reports whether the read-backs of data, programmed into
// data block b, compare the whole block on NOR flash: data fills it, or
// it fills at least half of it and b would otherwise be read back once
// for its erase (a block erased ahead without a read-back, or one the
// write erases): then the read-backs compare the bytes past data with
// 0xFF too, which costs no more reads than that erase check. A 0 bit that
// an erase which did not run (or ran in part) left where the block's new
// bytes have a 1 reads wrong in the program's two read-backs, which makes
// the erase's own read-back redundant (a bit at 0 where they have 0 reads
// right and is right). Not on NAND, whose pages are programmed once after
// an erase.
func (r *Round) verifiesWhole(b uint32, data []byte) bool {
	s := r.store
	n := int64(len(data))
	switch {
	case s.flash.Geometry().Kind != hal.NOR:
		return false
	case n == s.eraseSize:
		return true
	case 2*n < s.eraseSize:
		return false
	}
	unread := s.erased.has(b) && s.unread.has(b)
	dirty := !s.erased.has(b) && !s.blank.has(b)
	return unread || dirty
}

// knownErased reports whether data block b is known to be erased: erased
// by the store since it was last used (a block EraseAhead erased without
// reading it back is read now, the erase's check, and counts only if it
// reads erased), or not written since the format and reading erased now
// (then it joins the erased set). A block that was written since the
// format is not read: a torn erase or program leaves weak cells that may
// read as erased once and not the next time.
func (r *Round) knownErased(b uint32) (bool, error) {
	s := r.store
	unread := s.erased.has(b) && s.unread.has(b)
	if s.erased.has(b) && !unread {
		return true, nil
	}
	if !unread && !s.blank.has(b) {
		return false, nil
	}
	if unread {
		s.erased.remove(b) // until it reads erased
		s.unread.remove(b)
	}
	if _, err := s.flash.ReadAt(r.scratch, s.dataOff(b)); err != nil {
		return false, err
	}
	if !hal.IsErased(r.scratch) {
		return false, nil
	}
	s.erased.add(b)
	return true, nil
}

// readsBack reads chunk w back and reports whether it holds data, and the
// check (and with Options.Verify the digest) its intent recorded; with
// whole, whether the rest of its block reads erased too.
func (r *Round) readsBack(w *ChunkWrite, data []byte, whole bool) (bool, error) {
	s := r.store
	want := data
	if whole && int64(len(data)) < s.eraseSize {
		if r.padded == nil {
			r.padded = make([]byte, s.eraseSize)
		}
		want = r.padded
		copy(want, data)
		for k := len(data); k < len(want); k++ {
			want[k] = 0xFF
		}
	}
	back := r.scratch[:len(want)]
	if ok, err := s.readsStable(want, s.dataOff(w.Block), back); err != nil || !ok {
		return false, err
	}
	back = back[:len(data)]
	switch {
	case w.check != 0 && ChunkCheck(back) != w.check:
		return false, nil
	case s.opts.Verify && s.opts.Digests.Digest(back) != w.digest:
		return false, nil
	}
	return true, nil
}

// programChunk programs data at off (an erased data block), skipping runs
// of pages that are all 0xFF, and returns the pages programmed.
func (s *Store) programChunk(off int64, data []byte) (pages int64, err error) {
	g := s.flash.Geometry()
	page := max(g.PageSize, g.WriteSize, 1)
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
			return pages, err
		}
		pages += (int64(len(buf)) + page - 1) / page
		lo = end
	}
	return pages, nil
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
