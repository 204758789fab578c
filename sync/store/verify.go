// Verifying what the store programs and erases: every program is read
// back twice, every erase read back once — but on NOR the erase of a data
// block that is then programmed whole, whose two read-backs catch an
// erase that did not run (Round.prepareBlock, Store.EraseAhead;
// docs/FORMAT.md, Verifying programs and erases; docs/DESIGN.md).

package store

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
)

// verifyReads is how many times a program is read back. A weakly
// programmed page (cells left between states by a marginal program) can
// read right once and differently afterwards: one read-back proves
// nothing about it, two reads that both equal the bytes meant expose it
// (the second differs), as UBI's torture test re-reads what it wrote.
const verifyReads = 2

// maxReprograms bounds how often one write is done again after its
// verification failed (a fresh slot, the next journal block, the same
// data block erased again) before the write fails for good.
const maxReprograms = 2

// readsStable reports whether the len(want) bytes at off read as want on
// each of verifyReads reads. buf must hold len(want) bytes.
func (s *Store) readsStable(want []byte, off int64, buf []byte) (bool, error) {
	buf = buf[:len(want)]
	for range verifyReads {
		if _, err := s.flash.ReadAt(buf, off); err != nil {
			return false, err
		}
		if !bytes.Equal(buf, want) {
			return false, nil
		}
	}
	return true, nil
}

// eraseChecked erases n bytes at off (whole erase blocks) and reads them
// back: an erase that reported success without erasing (unchanged, or
// partly erased) is caught here and tried again, at most maxReprograms
// more times, on the erase blocks that do not read erased only (a block
// that did erase is not worn again). It fails with ErrVerify if a block
// still does not read erased. An erase that does not complete reads back
// with bits still 0, which one read sees: unlike a weak program, nothing
// the erase left reads 0xFF once and 0 later that a second read would
// catch better than the next program's own double read-back.
func (s *Store) eraseChecked(off, n int64) error {
	if err := s.flash.Erase(off, n); err != nil {
		return err
	}
	// Read back in pieces of up to 64 KiB, or one erase block where
	// blocks are larger (a NAND part's 128 KiB): a piece is always whole
	// blocks (n and both sizes are multiples of the erase size, a power of
	// two), so a piece that does not read erased is looked at, and erased
	// again, block by block — never a part of a block, which a chip
	// refuses as unaligned.
	buf := make([]byte, min(n, max(64<<10, s.eraseSize)))
	for lo := int64(0); lo < n; lo += int64(len(buf)) {
		p := buf[:min(int64(len(buf)), n-lo)]
		if _, err := s.flash.ReadAt(p, off+lo); err != nil {
			return err
		}
		if hal.IsErased(p) {
			continue
		}
		for b := int64(0); b < int64(len(p)); b += s.eraseSize {
			if err := s.eraseBlockAgain(off+lo+b, min(s.eraseSize, int64(len(p))-b), p[b:]); err != nil {
				return err
			}
		}
	}
	return nil
}

// eraseBlockAgain takes one erase block at off (size bytes) that an erase
// reported done: if it does not read erased (buf holds what it read, at
// least size bytes), it is erased again, at most maxReprograms times.
func (s *Store) eraseBlockAgain(off, size int64, buf []byte) error {
	p := buf[:size]
	for try := 0; ; try++ {
		if hal.IsErased(p) {
			return nil
		}
		if try == maxReprograms {
			return fmt.Errorf("%w: %d bytes at %#x do not read erased after %d erases that reported success", ErrVerify, size, off, try+1)
		}
		if err := s.flash.Erase(off, size); err != nil {
			return err
		}
		if _, err := s.flash.ReadAt(p, off); err != nil {
			return err
		}
	}
}

// readRetrying calls read (one read of the flash, or a read-back of
// several) until it returns nil or an error other than a media error or
// no response (transientErr), at most maxReprograms more times after the
// first, and returns its last error: a read that failed so says nothing
// about the cells, and a read costs no wear.
func readRetrying(read func() error) error {
	for try := 0; ; try++ {
		err := read()
		if err == nil || try == maxReprograms || !transientErr(err) {
			return err
		}
	}
}

// transientErr reports whether err is a flash failure that says nothing
// lasting about the block (a media error or no response): worth one more
// try of the same operation.
func transientErr(err error) bool {
	return errors.Is(err, hal.ErrMedia) || errors.Is(err, hal.ErrTimeout)
}
