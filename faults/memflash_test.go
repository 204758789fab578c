package faults

import (
	"time"

	"github.com/cmcsync/cmcsync/hal"
)

// memFlash is a minimal NOR fake for these tests: program ANDs, erase sets
// 0xFF, and Poke sets raw bytes. (Package sim is the real simulator.)
type memFlash struct {
	geo    hal.Geometry
	data   []byte
	erases int
}

func newMem(name string, size int64) *memFlash {
	m := &memFlash{geo: hal.Geometry{Name: name, Kind: hal.NOR, Size: size, EraseSize: 4096, WriteSize: 1, PageSize: 256},
		data: make([]byte, size)}
	for i := range m.data {
		m.data[i] = 0xff
	}
	return m
}

func (m *memFlash) Geometry() hal.Geometry { return m.geo }
func (m *memFlash) ReadAt(p []byte, off int64) (int, error) {
	if err := hal.CheckRange(m.geo, "read", off, int64(len(p))); err != nil {
		return 0, err
	}
	return copy(p, m.data[off:]), nil
}
func (m *memFlash) WriteAt(p []byte, off int64) (int, error) {
	if err := hal.CheckProgram(m.geo, off, int64(len(p))); err != nil {
		return 0, err
	}
	for i, b := range p {
		m.data[off+int64(i)] &= b
	}
	return len(p), nil
}
func (m *memFlash) Erase(off, n int64) error {
	if err := hal.CheckErase(m.geo, off, n); err != nil {
		return err
	}
	for i := off; i < off+n; i++ {
		m.data[i] = 0xff
	}
	m.erases++
	return nil
}
func (m *memFlash) Poke(off int64, p []byte) { copy(m.data[off:], p) }

// noPoke hides Poke, to test the fallbacks.
type noPoke struct{ hal.Flash }

type fakeClock struct{ t time.Duration }

func (c *fakeClock) Advance(d time.Duration) { c.t += d }
