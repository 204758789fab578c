// Erasing journal blocks ahead of the tail between rounds, so that a
// round's records go into blocks already erased (docs/FORMAT.md, Journal:
// writing).

package store

import "fmt"

// JournalBlocksUsed returns how many journal blocks the last committed
// round of this Store wrote records into (its intent, deltas and commit),
// 0 before the first: the idle erase keeps one more than that ready.
func (s *Store) JournalBlocksUsed() int { return s.roundJournal }

// EraseJournalAhead erases, one step at a time, journal blocks of the area
// in charge from the tail on, until want blocks past the records are known
// erased: a round then enters them without an erase (enterBlock). A step
// is one erase — an erase window when the block starts one that lies in
// the area and whose last block does not read erased, else one block — and
// its read-back. When the area has fewer than want blocks left and its
// records fill more than half of it, the step compacts the journal instead
// (the next round would have to).
//
// It is enterBlock's erase done early: the blocks it erases are past the
// last record, where a power loss may leave a torn erase exactly as one
// cut in enterBlock does (a reader stops at the end of the records); a
// restarted store forgets them and erases again before use. It refuses
// while a round is pending or in progress (ErrPending).
func (s *Store) EraseJournalAhead(want int) (EraseAheadStep, error) {
	switch {
	case s.opts.ReadOnly:
		return EraseAheadStep{}, ErrReadOnly
	case s.pending != nil || s.round != nil:
		return EraseAheadStep{}, ErrPending
	}
	nb := int64(s.layout.JournalBlocks)
	next := s.tailBlock
	if s.tailReady {
		next++
	}
	if s.mustCompact || (nb-next < int64(want) && next > nb/2) {
		if err := s.compact(); err != nil {
			return EraseAheadStep{}, fmt.Errorf("erase journal ahead: %w", err)
		}
		return EraseAheadStep{Erased: 1, Ready: s.journalReady()}, nil
	}
	ready := s.journalReady()
	if ready >= want {
		return EraseAheadStep{Ready: ready, Done: true}, nil
	}
	blk := next + int64(ready)
	if blk >= nb {
		return EraseAheadStep{Ready: ready, Done: true}, nil
	}
	off, n := s.areaOff(s.area)+blk*s.eraseSize, int64(1)
	if w := int64(s.windowBlocks()); w > 1 && off%eraseWindow == 0 && blk+w <= nb {
		used, err := s.blockUsed(off + (w-1)*s.eraseSize)
		if err != nil {
			return EraseAheadStep{Ready: ready}, fmt.Errorf("erase journal ahead: %w", err)
		}
		if used {
			n = w
		}
	}
	if err := s.eraseChecked(off, n*s.eraseSize); err != nil {
		s.windowEnd = 0
		return EraseAheadStep{}, fmt.Errorf("erase journal ahead: block %d: %w", blk, err)
	}
	s.windowArea, s.windowEnd = s.area, blk+n
	ready = s.journalReady()
	return EraseAheadStep{Erased: int(n), Ready: ready, Done: ready >= want || s.windowEnd >= nb}, nil
}

// journalReady counts the journal blocks from the first one the tail has
// not entered that are known erased (below windowEnd).
func (s *Store) journalReady() int {
	next := s.tailBlock
	if s.tailReady {
		next++
	}
	if s.windowEnd <= next || s.windowArea != s.area {
		return 0
	}
	return int(s.windowEnd - next)
}
