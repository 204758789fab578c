package bench

import (
	"bytes"
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
)

// copyChunk is the write and verify buffer of mtd-utils flashcp (BUFSIZE).
const copyChunk = 10 * 1024

// FullCopy copies size bytes at off from src to the same place on dst the
// way mtd-utils flashcp does without -p: the source is read once (flashcp
// reads it from a file; here it comes off the source flash), the whole
// destination range is erased in one request, everything is programmed in
// 10 KiB writes, and the destination is read back and compared.
//
// off and size must be multiples of dst's erase size. A verify mismatch is
// an error.
func FullCopy(src, dst hal.Flash, off, size int64) error {
	if err := checkPair(src, dst, off, size); err != nil {
		return err
	}
	data := make([]byte, size)
	if _, err := src.ReadAt(data, off); err != nil {
		return fmt.Errorf("full copy: read source: %w", err)
	}
	if err := dst.Erase(off, size); err != nil {
		return fmt.Errorf("full copy: erase: %w", err)
	}
	for p := int64(0); p < size; p += copyChunk {
		e := min(p+copyChunk, size)
		if _, err := dst.WriteAt(data[p:e], off+p); err != nil {
			return fmt.Errorf("full copy: program: %w", err)
		}
	}
	back := make([]byte, copyChunk)
	for p := int64(0); p < size; p += copyChunk {
		e := min(p+copyChunk, size)
		if _, err := dst.ReadAt(back[:e-p], off+p); err != nil {
			return fmt.Errorf("full copy: verify read: %w", err)
		}
		if !bytes.Equal(back[:e-p], data[p:e]) {
			return fmt.Errorf("full copy: verify: destination differs in %#x-%#x", off+p, off+e)
		}
	}
	return nil
}

// BlockDiff updates size bytes at off on dst to equal src the way
// mtd-utils flashcp -p does: for each erase block, read the source block
// and the destination block; if they differ in any byte, erase the
// destination block and program the whole source block. Unchanged blocks
// are neither erased nor programmed. Like flashcp -p it does not read back
// afterwards. (Flashrom is the finer diff.)
//
// off and size must be multiples of dst's erase size.
func BlockDiff(src, dst hal.Flash, off, size int64) error {
	return differingBlocks("block diff", src, dst, off, size, func(p int64, sb, _ []byte) error {
		if err := dst.Erase(p, int64(len(sb))); err != nil {
			return fmt.Errorf("erase: %w", err)
		}
		if _, err := dst.WriteAt(sb, p); err != nil {
			return fmt.Errorf("program: %w", err)
		}
		return nil
	})
}

// differingBlocks reads size bytes at off of src and dst erase block by
// erase block (dst's), and calls update with each block's offset and the
// source and destination contents (which update may change) where they
// differ. Errors are prefixed with what.
func differingBlocks(what string, src, dst hal.Flash, off, size int64, update func(p int64, sb, db []byte) error) error {
	if err := checkPair(src, dst, off, size); err != nil {
		return err
	}
	eb := dst.Geometry().EraseSize
	sb := make([]byte, eb)
	db := make([]byte, eb)
	for p := off; p < off+size; p += eb {
		if _, err := src.ReadAt(sb, p); err != nil {
			return fmt.Errorf("%s: read source: %w", what, err)
		}
		if _, err := dst.ReadAt(db, p); err != nil {
			return fmt.Errorf("%s: read destination: %w", what, err)
		}
		if bytes.Equal(sb, db) {
			continue
		}
		if err := update(p, sb, db); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}

// Flashrom updates size bytes at off on dst to equal src the way flashrom
// -w does through Linux MTD (its linux_mtd programmer, whose only eraser is
// the MTD erase size), at its finest: for each erase block, read the source
// and the destination block; if they are equal, skip it; erase it only if
// some bit must go from 0 to 1 (old AND new != new); then program only the
// pages that differ from what the block holds (after an erase, the pages
// that are not all 0xFF), each run of consecutive such pages in one write.
//
// The difference from BlockDiff (flashcp -p), precisely: for a block that
// differs, BlockDiff always erases it and programs all its pages (unchanged
// ones too); Flashrom erases it only when a 0→1 bit needs it, and programs
// only the differing pages — so a change that only clears bits (an append
// into erased space, a flag cleared) costs no erase, and a block with one
// changed page costs one page program. Both read source and destination
// block by block, skip identical blocks and do not read back.
//
// The difference from stock flashrom: its SPI NOR chip entries (and the
// linux_mtd opaque chip) keep the default write granularity of 256 bytes
// (flashchips.c), under which need_erase also erases a block when a changed
// 256-byte chunk that is not all 0xFF only clears bits; Flashrom applies
// flashrom's 1-bit rule (write_gran_1bit), the least flashrom's algorithm
// can do on NOR. And flashrom verifies by reading everything back unless
// run with --noverify; Flashrom does not.
//
// off and size must be multiples of dst's erase size.
func Flashrom(src, dst hal.Flash, off, size int64) error {
	ps := dst.Geometry().PageSize
	return differingBlocks("flashrom", src, dst, off, size, func(p int64, sb, db []byte) error {
		if !hal.ProgramsOver(db, sb) {
			if err := dst.Erase(p, int64(len(db))); err != nil {
				return fmt.Errorf("erase: %w", err)
			}
			for i := range db {
				db[i] = 0xFF
			}
		}
		eb := int64(len(sb))
		differs := func(q int64) bool { return !bytes.Equal(db[q:q+ps], sb[q:q+ps]) }
		for q := int64(0); q < eb; {
			if !differs(q) {
				q += ps
				continue
			}
			end := q + ps
			for end < eb && differs(end) {
				end += ps
			}
			if _, err := dst.WriteAt(sb[q:end], p+q); err != nil {
				return fmt.Errorf("program: %w", err)
			}
			q = end
		}
		return nil
	})
}

func checkPair(src, dst hal.Flash, off, size int64) error {
	g := dst.Geometry()
	if size <= 0 || off < 0 || off%g.EraseSize != 0 || size%g.EraseSize != 0 {
		return fmt.Errorf("copy range %d+%d is not whole %d-byte erase blocks: %w", off, size, g.EraseSize, hal.ErrUnaligned)
	}
	if off+size > g.Size || off+size > src.Geometry().Size {
		return fmt.Errorf("copy range %d+%d past the end of a device: %w", off, size, hal.ErrOutOfRange)
	}
	return nil
}
