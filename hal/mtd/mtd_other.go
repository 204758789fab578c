//go:build !linux

package mtd

import (
	"fmt"
	"runtime"

	"github.com/cmcsync/cmcsync/hal"
)

// Device is an open MTD character device. MTD is Linux-only: on this system
// no Device can be opened and every method fails with hal.ErrUnsupported.
type Device struct {
	path string
}

func unsupported(op, dev string) error {
	return &hal.OpError{Op: op, Dev: dev, Err: fmt.Errorf("%w: the MTD backend needs Linux (this is %s/%s)", hal.ErrUnsupported, runtime.GOOS, runtime.GOARCH)}
}

// Open fails with an error wrapping errors.ErrUnsupported: MTD is Linux-only.
func Open(path string) (*Device, error) { return nil, unsupported("open", path) }

// OpenWith fails with an error wrapping errors.ErrUnsupported: MTD is Linux-only.
func OpenWith(path string, sys Sys) (*Device, error) { return nil, unsupported("open", path) }

// OpenReadOnly fails with an error wrapping errors.ErrUnsupported: MTD is Linux-only.
func OpenReadOnly(path string) (*Device, error) { return nil, unsupported("open", path) }

// OpenReadOnlyWith fails with an error wrapping errors.ErrUnsupported: MTD is Linux-only.
func OpenReadOnlyWith(path string, sys Sys) (*Device, error) {
	return nil, unsupported("open", path)
}

// ReadAt fails with hal.ErrUnsupported.
func (d *Device) ReadAt(p []byte, off int64) (int, error) { return 0, unsupported("read", d.path) }

// WriteAt fails with hal.ErrUnsupported.
func (d *Device) WriteAt(p []byte, off int64) (int, error) { return 0, unsupported("program", d.path) }

// Erase fails with hal.ErrUnsupported.
func (d *Device) Erase(off, n int64) error { return unsupported("erase", d.path) }

// Geometry returns the zero geometry.
func (d *Device) Geometry() hal.Geometry { return hal.Geometry{} }

// Info returns the zero Info.
func (d *Device) Info() Info { return Info{} }

// IsBad fails with hal.ErrUnsupported.
func (d *Device) IsBad(off int64) (bool, error) { return false, unsupported("isbad", d.path) }

// MarkBad fails with hal.ErrUnsupported.
func (d *Device) MarkBad(off int64) error { return unsupported("markbad", d.path) }

// Stats returns zero statistics.
func (d *Device) Stats() hal.Stats { return hal.Stats{} }

// Close fails with hal.ErrUnsupported.
func (d *Device) Close() error { return unsupported("close", d.path) }

// Bitflip is a bit InjectBitflip cleared in a NAND page.
type Bitflip struct {
	Off                             int64
	Bit                             uint
	CorrectedBefore, CorrectedAfter int64
}

// InjectBitflip fails with hal.ErrUnsupported: MTD is Linux-only.
func InjectBitflip(path string, off int64) (Bitflip, error) {
	return Bitflip{}, unsupported("bitflip", path)
}
