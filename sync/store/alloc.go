// Data block allocation: the rotating cursor, whole erase windows and their
// spare blocks, the live and retired blocks a round must not use.

package store

import (
	"errors"
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
)

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
	// blocks) and blocks not written since the format (which Write reads
	// before it programs them) cost no erase: use them first. Before the
	// cursor has gone round once, blocks at and after it are taken in
	// cursor order below.
	for k := uint32(0); k < n && i < chunks; k++ {
		b := (cur + k) % n
		if (s.erased.has(b) || s.blank.has(b)) && free(b) && (wraps > 0 || b < cur) {
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

// rebuildLive makes the live set that of the committed generation and
// removes its blocks from the erased and blank sets.
func (s *Store) rebuildLive() {
	s.live, s.liveStale = s.committedBlocks(), false
	s.erased.andNot(s.live)
	s.blank.andNot(s.live)
}

// committedBlocks returns the data blocks the committed generation's chunk
// maps hold.
func (s *Store) committedBlocks() blockSet {
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
	for i := range s.committed.Types {
		for _, c := range s.committed.Types[i].Chunks {
			for _, d := range c.Deltas {
				live.add(d.Block)
			}
		}
	}
	return live
}

// retire takes data block b out of use if err says the block is worn out
// or bad (marking it bad on devices that keep bad-block marks), and
// reports whether it did.
func (s *Store) retire(b uint32, err error) bool {
	if !errors.Is(err, hal.ErrWornOut) && !errors.Is(err, hal.ErrBadBlock) {
		return false
	}
	_ = hal.MarkBad(s.flash, s.dataOff(b))
	s.takeOutOfUse(b, err.Error())
	return true
}

// takeOutOfUse keeps data block b out of rounds for the life of the Store
// and reports why. It does not mark the block bad (retire does, for a
// block that failed an erase): a later Open may use it again.
func (s *Store) takeOutOfUse(b uint32, why string) {
	if s.retired == nil {
		s.retired = map[uint32]bool{}
	}
	s.retired[b] = true
	s.find(BlockRetired, -1, s.dataOff(b), 0, "data block %d retired: %s", b, why)
}
