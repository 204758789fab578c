package calibrate_test

import (
	"bytes"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
)

// costs are the fixed times of a fakeFlash's operations.
type costs struct {
	read     func(n int64) time.Duration
	program  time.Duration // per call
	erase    time.Duration // per erase block
	erase64k time.Duration // an aligned 64 KiB erase in one call; 0: 16 × erase
	// eraseCall is a fixed cost of every erase call (a system call and
	// an emulator's overhead).
	eraseCall time.Duration
}

// fakeFlash is an in-memory NOR device with 4 KiB erase blocks whose
// operations advance a virtual clock by fixed costs, and which records
// the range of every operation.
type fakeFlash struct {
	geo   hal.Geometry
	mem   []byte
	clock *sim.Clock
	costs costs
	ops   []opRange
}

type opRange struct {
	op     string
	off, n int64
}

func newFakeFlash(size int64, c costs) *fakeFlash {
	return &fakeFlash{geo: hal.Geometry{Name: "fake", Kind: hal.NOR, Size: size, EraseSize: 4096, WriteSize: 1, PageSize: 256},
		mem: bytes.Repeat([]byte{0xA5}, int(size)), clock: sim.NewClock(time.Unix(0, 0)), costs: c}
}

func (f *fakeFlash) Geometry() hal.Geometry { return f.geo }

func (f *fakeFlash) ReadAt(p []byte, off int64) (int, error) {
	if err := hal.CheckRange(f.geo, "read", off, int64(len(p))); err != nil {
		return 0, err
	}
	f.ops = append(f.ops, opRange{"read", off, int64(len(p))})
	f.clock.Advance(f.costs.read(int64(len(p))))
	return copy(p, f.mem[off:]), nil
}

func (f *fakeFlash) WriteAt(p []byte, off int64) (int, error) {
	if err := hal.CheckProgram(f.geo, off, int64(len(p))); err != nil {
		return 0, err
	}
	f.ops = append(f.ops, opRange{"program", off, int64(len(p))})
	for i, b := range p {
		f.mem[off+int64(i)] &= b
	}
	f.clock.Advance(f.costs.program)
	return len(p), nil
}

func (f *fakeFlash) Erase(off, n int64) error {
	if err := hal.CheckErase(f.geo, off, n); err != nil {
		return err
	}
	f.ops = append(f.ops, opRange{"erase", off, n})
	for i := off; i < off+n; i++ {
		f.mem[i] = 0xFF
	}
	f.clock.Advance(f.costs.eraseCall)
	if n == 64<<10 && off%n == 0 && f.costs.erase64k != 0 {
		f.clock.Advance(f.costs.erase64k)
	} else {
		f.clock.Advance(time.Duration(n/f.geo.EraseSize) * f.costs.erase)
	}
	return nil
}
