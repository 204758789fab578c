// Erasing free data blocks ahead of need, between rounds, so that rounds
// program into blocks already erased instead of waiting for erases
// (docs/FORMAT.md, States and transitions: the blocks a running writer
// erased itself are known erased).

package store

import (
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
)

// EraseAheadStep is what one EraseAhead call did.
type EraseAheadStep struct {
	// Erased: data blocks this call erased (a whole erase window, or one
	// block), 0 if it had nothing to do.
	Erased int
	// Ready: free data blocks known to be erased after it (erased by the
	// store since their last use, or not written since the format).
	Ready int
	// Done: nothing more to do (want blocks are ready, or no free block
	// that is not ready is left).
	Done bool
}

// EraseAhead erases free data blocks ahead of the allocation cursor, one
// step at a time: the next erase window (on NOR with 4 KiB blocks, 16
// blocks erased in one operation, the window a round would take next) or,
// when no wholly free window is left or blocks are windows already, the
// next single block, whose blocks are all free and not all known erased.
// On NAND it then reads them back; on NOR it does not: a round reads
// such a block before it programs it (the erase's check, deferred) unless
// it programs it whole, whose two read-backs catch an erase that did not
// run (Round.knownErased, Round.prepareBlock). It counts them known erased,
// so that later rounds (Begin allocates known-erased blocks first, and
// programs a window whose blocks are all known erased without erasing it)
// skip that erase. It does nothing once want free blocks are known erased.
//
// It never touches a block of the committed generation (nor a delta
// block), of an interrupted round (it refuses with ErrPending until the
// round is purged) or of a round in progress, nor a block not written
// since the format (erased already: a torn erase there would make a block
// that a later round trusts after one read untrustworthy). A power loss
// during the erase leaves a free block the journal never counted as
// erased: the next writer erases it before use. What it erased is known
// in this Store only (a reopened store erases those blocks again before
// use).
func (s *Store) EraseAhead(want int) (EraseAheadStep, error) {
	switch {
	case s.opts.ReadOnly:
		return EraseAheadStep{}, ErrReadOnly
	case s.pending != nil || s.round != nil:
		return EraseAheadStep{}, ErrPending
	}
	if s.live == nil || s.liveStale {
		s.rebuildLive()
	}
	ready := s.readyBlocks()
	if ready >= want {
		return EraseAheadStep{Ready: ready, Done: true}, nil
	}
	lo, n, ok := s.nextDirtyRange()
	if !ok {
		return EraseAheadStep{Ready: ready, Done: true}, nil
	}
	// On NOR the erase is not read back here: the round that takes a
	// block reads it first (Round.knownErased) unless it programs the
	// block whole, whose two read-backs catch an erase that did not run
	// (docs/FORMAT.md, Verifying programs and erases).
	nor := s.flash.Geometry().Kind == hal.NOR
	erase := s.eraseChecked
	if nor {
		erase = s.flash.Erase
	}
	if err := erase(s.dataOff(lo), int64(n)*s.eraseSize); err != nil {
		if n == 1 {
			s.retire(lo, err)
		}
		return EraseAheadStep{Ready: ready}, fmt.Errorf("erase ahead: data blocks %d..%d: %w", lo, lo+n-1, err)
	}
	for b := lo; b < lo+n; b++ {
		if nor {
			s.unread.add(b)
		} else {
			s.unread.remove(b)
		}
		if !s.erased.has(b) {
			s.erased.add(b)
			ready++
		}
	}
	return EraseAheadStep{Erased: int(n), Ready: ready, Done: ready >= want}, nil
}

// readyBlocks counts the free data blocks known to be erased.
func (s *Store) readyBlocks() int {
	n := 0
	for b := uint32(0); b < s.layout.DataBlocks; b++ {
		if (s.erased.has(b) || s.blank.has(b)) && s.usable(b) {
			n++
		}
	}
	return n
}

// usable reports whether data block b is free for rounds: not of the
// committed generation, not retired.
func (s *Store) usable(b uint32) bool { return !s.live.has(b) && !s.retired[b] }

// dirty reports whether free block b needs an erase before a round may
// program it: not known erased, not blank.
func (s *Store) dirty(b uint32) bool {
	return s.usable(b) && !s.erased.has(b) && !s.blank.has(b)
}

// nextDirtyRange returns, from the allocation cursor on (wrapping once),
// the first erase window whose blocks are all free, none blank and some
// dirty; or, if there is none, the first dirty block (n = 1).
func (s *Store) nextDirtyRange() (lo, n uint32, ok bool) {
	nb := s.layout.DataBlocks
	if g := s.windowBlocks(); g > 1 && nb >= g {
		b := s.cursor
		for range nb {
			if s.windowStart(b) && b+g <= nb && s.windowErasable(b, g) {
				return b, g, true
			}
			if b++; b >= nb {
				b = 0
			}
		}
	}
	b := s.cursor
	for range nb {
		if s.dirty(b) {
			return b, 1, true
		}
		if b++; b >= nb {
			b = 0
		}
	}
	return 0, 0, false
}

// windowErasable reports whether the n blocks from b are all free, none
// blank, and at least one dirty.
func (s *Store) windowErasable(b, n uint32) bool {
	some := false
	for k := b; k < b+n; k++ {
		if !s.usable(k) || s.blank.has(k) {
			return false
		}
		some = some || !s.erased.has(k)
	}
	return some
}
