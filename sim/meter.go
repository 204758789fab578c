package sim

import (
	"fmt"
	"sync"

	"github.com/cmcsync/cmcsync/hal"
)

// Metered is a real device (an MTD chip) seen as a chip of a simulated
// part: its first Options.Size bytes (0: the part's size), and each
// successful operation advances Options.Clock by exactly what a simulated
// chip of the same options charges for it (see Flash). An engine on a
// Metered device, with that clock, sees the times it would see on the
// simulator, so it issues the same operations in the same order; the data
// go to the real device. Safe for concurrent use (operations are
// serialized).
type Metered struct {
	mu    sync.Mutex
	dev   hal.Flash
	model *Flash // its timing only: nothing is stored in it
	geo   hal.Geometry
}

// NewMetered wraps dev. The part's geometry (with o.EraseModel) must match
// dev's erase block, write and page sizes, and dev must be at least the
// simulated size.
func NewMetered(dev hal.Flash, o Options) (*Metered, error) {
	if o.Clock == nil {
		return nil, fmt.Errorf("metered %s: a clock is required", dev.Geometry().Name)
	}
	model, err := newFlash(o)
	if err != nil {
		return nil, err
	}
	g, d := model.geo, dev.Geometry()
	if g.EraseSize != d.EraseSize || g.WriteSize != d.WriteSize || g.Kind != d.Kind {
		return nil, fmt.Errorf("metered %s: the device's geometry (%s, erase %s, write %d) is not part %s's (%s, erase %s, write %d)",
			d.Name, d.Kind, hal.FormatSize(d.EraseSize), d.WriteSize, o.Part.Name, g.Kind, hal.FormatSize(g.EraseSize), g.WriteSize)
	}
	if d.Size < g.Size {
		return nil, fmt.Errorf("metered %s: the device holds %s, less than the %s simulated", d.Name, hal.FormatSize(d.Size), hal.FormatSize(g.Size))
	}
	g.Name = d.Name
	return &Metered{dev: dev, model: model, geo: g}, nil
}

// Geometry is the simulated part's, with the device's name.
func (m *Metered) Geometry() hal.Geometry { return m.geo }

// Unwrap returns the device.
func (m *Metered) Unwrap() hal.Flash { return m.dev }

// ReadAt reads from the device and charges the read.
func (m *Metered) ReadAt(p []byte, off int64) (int, error) {
	return m.ReadAtPieces(p, off, func(int) {})
}

// ReadAtPieces reads from the device piece by piece where it can
// (hal.ReadAtPieces) and charges the whole read after the last piece, as
// Flash does.
func (m *Metered) ReadAtPieces(p []byte, off int64, piece func(filled int)) (int, error) {
	n := int64(len(p))
	if err := hal.CheckRange(m.geo, "read", off, n); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k, err := hal.ReadAtPieces(m.dev, p, off, piece)
	if err == nil {
		m.model.charge(m.model.readCost(off, n))
	}
	return k, err
}

// WriteAt programs the device and charges the program.
func (m *Metered) WriteAt(p []byte, off int64) (int, error) {
	n := int64(len(p))
	if err := hal.CheckRange(m.geo, "program", off, n); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k, err := m.dev.WriteAt(p, off)
	if err == nil {
		m.model.charge(m.model.programCost(off, n))
	}
	return k, err
}

// Erase erases on the device and charges one command per erase unit.
func (m *Metered) Erase(off, n int64) error {
	if err := hal.CheckErase(m.geo, off, n); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	err := m.dev.Erase(off, n)
	if err == nil {
		m.model.charge(m.model.eraseCost(off>>m.model.blkShift, (off+n-1)>>m.model.blkShift))
	}
	return err
}

// IsBad asks the device (hal.IsBad); it charges nothing, as Flash does.
func (m *Metered) IsBad(off int64) (bool, error) {
	if off < 0 || off >= m.geo.Size {
		return false, &hal.OpError{Op: "isbad", Dev: m.geo.Name, Off: off, Err: fmt.Errorf("%w: device is %#x bytes", hal.ErrOutOfRange, m.geo.Size)}
	}
	return hal.IsBad(m.dev, off)
}

// MarkBad marks on the device (hal.MarkBad).
func (m *Metered) MarkBad(off int64) error {
	if off < 0 || off >= m.geo.Size {
		return &hal.OpError{Op: "markbad", Dev: m.geo.Name, Off: off, Err: fmt.Errorf("%w: device is %#x bytes", hal.ErrOutOfRange, m.geo.Size)}
	}
	return hal.MarkBad(m.dev, off)
}

// Close closes the device (hal.Close).
func (m *Metered) Close() error { return hal.Close(m.dev) }
