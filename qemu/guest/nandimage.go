package guest

import (
	"bytes"
	"fmt"
	"io"

	"github.com/cmcsync/cmcsync/hal"
)

// A NAND chip the kernel simulates (nandsim) lives in the guest's memory
// and dies with the machine. To carry a chip from one boot to the next,
// the guest saves it to a disk image (SaveImage) before the power goes and
// loads it onto the fresh chip of the next boot (LoadImage). An image is
// the chip's bytes with every bad block as erased (0xFF): a bad block's
// cells cannot be read or written, and the chip of the next boot has the
// same factory bad blocks (nandsim's badblocks= parameter).

// ImageStats counts what LoadImage or SaveImage did.
type ImageStats struct {
	Blocks, BadBlocks, Pages int64
}

// LoadImage programs the first size bytes of img onto f, which must be
// erased (a fresh nandsim chip): every page that is not all 0xFF, block by
// block, skipping f's bad blocks (where the image must be erased, else
// the chip cannot hold it). size is a whole number of erase blocks.
func LoadImage(f hal.Flash, img io.ReaderAt, size int64) (ImageStats, error) {
	g := f.Geometry()
	var st ImageStats
	if size%g.EraseSize != 0 || size > g.Size {
		return st, fmt.Errorf("load image: %d bytes is not a whole number of %d-byte blocks within the %d-byte chip", size, g.EraseSize, g.Size)
	}
	page := max(g.PageSize, g.WriteSize, 1)
	buf := make([]byte, g.EraseSize)
	erased := bytes.Repeat([]byte{0xFF}, int(g.EraseSize))
	for off := int64(0); off < size; off += g.EraseSize {
		if _, err := img.ReadAt(buf, off); err != nil {
			return st, fmt.Errorf("load image: read block at %#x: %w", off, err)
		}
		st.Blocks++
		bad, err := hal.IsBad(f, off)
		if err != nil {
			return st, fmt.Errorf("load image: %w", err)
		}
		if bad {
			st.BadBlocks++
			if !bytes.Equal(buf, erased) {
				return st, fmt.Errorf("load image: block at %#x is bad on the chip but holds data in the image", off)
			}
			continue
		}
		for p := int64(0); p < g.EraseSize; p += page {
			if bytes.Equal(buf[p:p+page], erased[:page]) {
				continue
			}
			if _, err := f.WriteAt(buf[p:p+page], off+p); err != nil {
				return st, fmt.Errorf("load image: program page at %#x: %w", off+p, err)
			}
			st.Pages++
		}
	}
	return st, nil
}

// SaveImage writes the first size bytes of f to img, bad blocks as erased.
func SaveImage(f hal.Flash, img io.WriterAt, size int64) (ImageStats, error) {
	g := f.Geometry()
	var st ImageStats
	if size%g.EraseSize != 0 || size > g.Size {
		return st, fmt.Errorf("save image: %d bytes is not a whole number of %d-byte blocks within the %d-byte chip", size, g.EraseSize, g.Size)
	}
	buf := make([]byte, g.EraseSize)
	for off := int64(0); off < size; off += g.EraseSize {
		st.Blocks++
		bad, err := hal.IsBad(f, off)
		if err != nil {
			return st, fmt.Errorf("save image: %w", err)
		}
		if bad {
			st.BadBlocks++
			for i := range buf {
				buf[i] = 0xFF
			}
		} else if _, err := f.ReadAt(buf, off); err != nil {
			return st, fmt.Errorf("save image: read block at %#x: %w", off, err)
		}
		if _, err := img.WriteAt(buf, off); err != nil {
			return st, fmt.Errorf("save image: write block at %#x: %w", off, err)
		}
	}
	return st, nil
}
