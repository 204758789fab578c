// The journal writer: appending records at the tail, entering (erasing)
// journal blocks, and the records written alone (staged config, role).

package store

import (
	"fmt"

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
// only; a round that changed nothing has no intent).
func (s *Store) ensureRoom(sizes []int64) error {
	if s.fits(sizes) {
		return nil
	}
	if s.pending != nil || (s.round != nil && s.round.intent != nil) {
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
// the tail, one program per erase block they occupy. Each program is read
// back twice (see readsStable); records that do not read back as written
// are written again at the start of the next block (after zeroing them on
// NOR), at most maxReprograms times, else ErrVerify; so are records whose
// program failed with a media error or no response (else that error). A
// read-back that fails so is read again first (see readBack). Between
// programs it calls the SetBetweenWrites function.
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
	reprograms := 0
	for programs := 0; i < len(recs); programs++ {
		if programs > 0 {
			if err := s.between(); err != nil {
				return err
			}
		}
		if s.tailOffset+int64(len(recs[i])) > s.eraseSize {
			s.tailBlock, s.tailOffset, s.tailReady = s.tailBlock+1, 0, false
		}
		if s.tailBlock >= int64(s.layout.JournalBlocks) {
			return fmt.Errorf("journal full")
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
		_, err := s.flash.WriteAt(buf, at)
		stable := false
		if err == nil {
			stable, err = s.readBack(buf, at)
		}
		if err != nil || !stable {
			// Whatever landed is torn, or weak (it did not read back the
			// same twice: a reader may see it valid once and invalid the
			// next time). After records in this block, the journal
			// continues in the next block (a reader looks there after an
			// invalid record that ends a block). A failed program at the
			// start of a block may have left it blank, which a reader
			// takes for the end of the journal: the block is erased again
			// and written from its start instead. A program or read-back
			// that failed with a media error or no response is written
			// again so too (within maxReprograms); any other error fails
			// the write.
			s.windowEnd = 0
			if (err == nil || transientErr(err)) && s.tailOffset > 0 && s.flash.Geometry().Kind == hal.NOR {
				// Program the weak records to zeros, so that they read
				// invalid, not valid once and invalid the next time (best
				// effort: the next block's records supersede them anyway).
				_, _ = s.flash.WriteAt(make([]byte, len(buf)), at)
			}
			// On NAND (or where the zeroing fails) the records left
			// behind may read valid: a reader takes them and skips their
			// copies at the next block's start (scanArea, copiesAt).
			if s.tailOffset > 0 {
				s.tailBlock, s.tailOffset = s.tailBlock+1, 0
			}
			s.tailReady = false
			if err != nil && (!transientErr(err) || reprograms == maxReprograms) {
				return err
			}
			if reprograms == maxReprograms {
				return fmt.Errorf("%w: journal records at %#x do not read back as written after %d programs", ErrVerify, at, reprograms+1)
			}
			reprograms++
			continue // the same records again, at the next block's start
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

// readBack reads the records buf just programmed at at back (readsStable).
// A read that fails with a media error or no response says nothing about
// what was programmed: it is read again, at most maxReprograms more times,
// rather than the records written again (which would leave a valid copy
// behind on NAND, where they cannot be zeroed).
func (s *Store) readBack(buf []byte, at int64) (bool, error) {
	rb := make([]byte, len(buf))
	var stable bool
	err := readRetrying(func() (err error) {
		stable, err = s.readsStable(buf, at, rb)
		return err
	})
	return stable, err
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
	if err := s.eraseChecked(off, n*s.eraseSize); err != nil {
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
