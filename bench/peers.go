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
// mtd-utils flashcp -p does (and, at erase-block granularity, flashrom):
// for each erase block, read the source block and the destination block;
// if they differ, erase the destination block and program the whole source
// block. Unchanged blocks are neither erased nor programmed. Like flashcp -p
// it does not read back afterwards.
//
// off and size must be multiples of dst's erase size.
func BlockDiff(src, dst hal.Flash, off, size int64) error {
	if err := checkPair(src, dst, off, size); err != nil {
		return err
	}
	eb := dst.Geometry().EraseSize
	sb := make([]byte, eb)
	db := make([]byte, eb)
	for p := off; p < off+size; p += eb {
		if _, err := src.ReadAt(sb, p); err != nil {
			return fmt.Errorf("block diff: read source: %w", err)
		}
		if _, err := dst.ReadAt(db, p); err != nil {
			return fmt.Errorf("block diff: read destination: %w", err)
		}
		if bytes.Equal(sb, db) {
			continue
		}
		if err := dst.Erase(p, eb); err != nil {
			return fmt.Errorf("block diff: erase: %w", err)
		}
		if _, err := dst.WriteAt(sb, p); err != nil {
			return fmt.Errorf("block diff: program: %w", err)
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
