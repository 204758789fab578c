package bench

import (
	"bytes"
	"crypto/sha256"
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
// destination block, program the whole source block, and read the block
// back and compare it with the source (flashcp's "compare buffers for
// write success": misc-utils/flashcp.c, the DIFF_BLOCKS loop, mtd-utils
// since -p was added). Unchanged blocks are neither erased, programmed
// nor read back. (Flashrom is the finer diff.)
//
// off and size must be multiples of dst's erase size. A verify mismatch is
// an error.
func BlockDiff(src, dst hal.Flash, off, size int64) error {
	return differingBlocks("block diff", src, dst, off, size, nil, func(p int64, sb, db []byte) error {
		if err := dst.Erase(p, int64(len(sb))); err != nil {
			return fmt.Errorf("erase: %w", err)
		}
		if _, err := dst.WriteAt(sb, p); err != nil {
			return fmt.Errorf("program: %w", err)
		}
		if _, err := dst.ReadAt(db, p); err != nil {
			return fmt.Errorf("verify read: %w", err)
		}
		if !bytes.Equal(db, sb) {
			return fmt.Errorf("verify: destination differs in %#x-%#x", p, p+int64(len(sb)))
		}
		return nil
	})
}

// differingBlocks reads size bytes at off of src and dst erase block by
// erase block (dst's), and calls update with each block's offset and the
// source and destination contents (which update may change) where they
// differ. each, if not nil, sees every source block first. Errors are
// prefixed with what.
func differingBlocks(what string, src, dst hal.Flash, off, size int64, each func(sb []byte), update func(p int64, sb, db []byte) error) error {
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
		if each != nil {
			each(sb)
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
// block by block and skip identical blocks; BlockDiff reads back each
// block it rewrote, Flashrom the whole range once it wrote anything.
//
// The difference from stock flashrom: its SPI NOR chip entries (and the
// linux_mtd opaque chip) keep the default write granularity of 256 bytes
// (flashchips.c), under which need_erase also erases a block when a changed
// 256-byte chunk that is not all 0xFF only clears bits; Flashrom applies
// flashrom's 1-bit rule (write_gran_1bit), the least flashrom's algorithm
// can do on NOR.
//
// Reads besides the diff's: flashrom reads every block it erased back
// and checks that it is erased (check_erased_range after each erase
// function, "ERASE FAILED!": erasure_layout.c erase_write in
// flashrom/flashrom, flashrom.c's erase-and-write helper before it), and
// Flashrom does the same.
//
// Verify: flashrom -w verifies by default ("After writing has finished
// and if verification is enabled, the whole flash is read out and
// compared with the input image", flashrom(8), -w; -n/--noverify skips it
// and is "not recommended"), and -N/--noverify-all narrows the read to
// the included regions. Flashrom models that least verify: once it has
// written anything, it reads the range [off, off+size) back and compares
// it with the source; a sync that wrote nothing (flashrom: "chip content
// is identical") reads nothing back.
//
// off and size must be multiples of dst's erase size.
func Flashrom(src, dst hal.Flash, off, size int64) error {
	ps := dst.Geometry().PageSize
	wrote := false
	var sums [][sha256.Size]byte
	each := func(sb []byte) { sums = append(sums, sha256.Sum256(sb)) }
	err := differingBlocks("flashrom", src, dst, off, size, each, func(p int64, sb, db []byte) error {
		wrote = true
		if !hal.ProgramsOver(db, sb) {
			if err := dst.Erase(p, int64(len(db))); err != nil {
				return fmt.Errorf("erase: %w", err)
			}
			// flashrom reads every block it erased back
			// (check_erased_range: "ERASE FAILED!").
			if _, err := dst.ReadAt(db, p); err != nil {
				return fmt.Errorf("erase check read: %w", err)
			}
			if !hal.IsErased(db) {
				return fmt.Errorf("erase check: block at %#x is not erased", p)
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
	if err != nil || !wrote {
		return err
	}
	return verifyRange("flashrom", dst, off, size, sums)
}

// verifyRange reads size bytes at off of dst back, erase block by erase
// block, and compares each block with the SHA-256 sums the diff took of
// the source (the image a peer holds in memory; the source chip is not
// read again). Errors are prefixed with what.
func verifyRange(what string, dst hal.Flash, off, size int64, sums [][sha256.Size]byte) error {
	eb := dst.Geometry().EraseSize
	back := make([]byte, eb)
	for i, p := 0, off; p < off+size; i, p = i+1, p+eb {
		if _, err := dst.ReadAt(back, p); err != nil {
			return fmt.Errorf("%s: verify read: %w", what, err)
		}
		if sha256.Sum256(back) != sums[i] {
			return fmt.Errorf("%s: verify: destination differs in %#x-%#x", what, p, p+eb)
		}
	}
	return nil
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
