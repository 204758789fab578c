package fwimage

import (
	"fmt"
	"hash"
	"io"
)

// readAt reads exactly n bytes at off; a short read is reported with the
// range and what it was reading.
func readAt(r io.ReaderAt, off int64, n int, what string) ([]byte, error) {
	b := make([]byte, n)
	if n == 0 {
		return b, nil // a reader may answer io.EOF to an empty read at its end
	}
	if _, err := r.ReadAt(b, off); err != nil {
		return nil, fmt.Errorf("reading %s [0x%x, 0x%x): %w", what, off, off+int64(n), err)
	}
	return b, nil
}

// digest feeds bytes [off, off+n) of r to h, reading through a small
// buffer, so that memory does not grow with n.
func digest(r io.ReaderAt, off, n int64, h hash.Hash, what string) error {
	if _, err := io.CopyN(h, io.NewSectionReader(r, off, n), n); err != nil {
		return fmt.Errorf("reading %s [0x%x, 0x%x): %w", what, off, off+n, err)
	}
	return nil
}
