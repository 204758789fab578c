package main

import (
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
)

// errReadOnlyChip is wrapped by the error of every program, erase and
// bad-block mark asked of a chip a read-only command opened.
var errReadOnlyChip = fmt.Errorf("%w: the chip was opened read-only, for a command that only reads (config get, info get)", hal.ErrUnsupported)

// readOnlyChip is a chip a read-only command opened (flashspec.OpenReadOnly):
// reads go to the chip; a program, an erase or a bad-block mark fails with
// an error wrapping errReadOnlyChip, before the device sees it. An MTD
// device opened O_RDONLY refuses them itself; a simulated chip loaded
// read-only would take them into memory only, so without this a write
// asked by mistake would go unnoticed.
type readOnlyChip struct {
	hal.Flash
}

func (c readOnlyChip) refuse(op string, off, n int64) error {
	return &hal.OpError{Op: op, Dev: c.Flash.Geometry().Name, Off: off, Len: n, Err: errReadOnlyChip}
}

func (c readOnlyChip) WriteAt(p []byte, off int64) (int, error) {
	return 0, c.refuse("program", off, int64(len(p)))
}

func (c readOnlyChip) Erase(off, n int64) error { return c.refuse("erase", off, n) }

// IsBad and MarkBad: the wrapped chip's bad-block table is read as it
// is; marks are refused.
func (c readOnlyChip) IsBad(off int64) (bool, error) { return hal.IsBad(c.Flash, off) }

func (c readOnlyChip) MarkBad(off int64) error { return c.refuse("markbad", off, 0) }

// ReadAtPieces forwards to the wrapped chip (hal.PieceReader).
func (c readOnlyChip) ReadAtPieces(p []byte, off int64, piece func(filled int)) (int, error) {
	return hal.ReadAtPieces(c.Flash, p, off, piece)
}

// Unwrap returns the chip (hal.Wrapper); Stats forwards its statistics.
func (c readOnlyChip) Unwrap() hal.Flash { return c.Flash }

func (c readOnlyChip) Stats() hal.Stats {
	s, _ := hal.StatsOf(c.Flash)
	return s
}

// Close closes the chip.
func (c readOnlyChip) Close() error { return hal.Close(c.Flash) }
