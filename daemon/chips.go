package daemon

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/sim"
)

// ErrFaultsNeedSim is returned by Open when Options.Faults is set and a
// chip is real flash: faults are injected into simulated chips only.
var ErrFaultsNeedSim = errors.New("faults can be injected into simulated chips only")

// openChips opens both chips on one virtual clock (the simulated chips'
// datasheet time) and wraps them as the engine sees them: paced (with
// Options.Pace), through the fault injector (with Options.Faults),
// watched for the injector's power cut, watched for each operation
// returning (Daemon.StalledFor), and guarded: no writes while a chip's
// image file or device node is gone (backing).
func (d *Daemon) openChips(specs [2]flashspec.Spec) error {
	virtual := sim.NewClock(time.Now())
	d.clock = newFlashClock(virtual, d.opts.Pace)
	d.primaryMu.clock = d.clock
	for i, s := range specs {
		f, err := flashspec.Open(s, virtual)
		if err != nil {
			return fmt.Errorf("open %s: %w", s, err)
		}
		d.raw[i], d.chips[i] = f, f
		d.simChips[i], _ = f.(*sim.Flash)
		if d.backing[i], err = watchBacking(s, f.Geometry().Name); err != nil {
			return err
		}
	}
	if d.opts.Faults != nil || d.opts.traceOps != nil {
		if !d.simulated {
			return fmt.Errorf("%w: both --primary and --backup must be sim: specs", ErrFaultsNeedSim)
		}
		d.injectFaults()
	}
	if d.opts.Pace {
		for i, f := range d.chips {
			if d.simChips[i] != nil {
				d.chips[i] = pacedFlash(f)
			}
		}
	}
	for i, f := range d.chips { // seen by StalledFor: an operation returned
		d.chips[i] = &tappedFlash{Flash: f, after: func(error) { d.primaryMu.opReturned() }}
	}
	for i, f := range d.chips { // outermost: a refused write reaches no fault counter
		d.chips[i] = d.guardChip(f, d.backing[i])
	}
	return nil
}

// injectFaults wraps both chips by one injector of Options.Faults (which
// counts their operations together), issuing programs page by page and
// erases block by block as an SPI NOR driver does, so a cut can fall
// between the pages of one write. A cut calls Options.OnPowerCut.
func (d *Daemon) injectFaults() {
	var s faults.Schedule
	if d.opts.Faults != nil {
		s = *d.opts.Faults
	}
	d.injector = faults.NewInjector(s, faults.Options{Clock: d.clock, Trace: d.opts.traceOps,
		SplitPages: true})
	var once sync.Once
	cut := func(err error) {
		if err != nil && d.opts.OnPowerCut != nil && d.injector.PoweredOff() {
			once.Do(d.opts.OnPowerCut)
		}
	}
	for i, role := range []faults.Role{faults.Primary, faults.Backup} {
		d.chips[i] = &tappedFlash{Flash: d.injector.Wrap(d.chips[i], role), after: cut}
	}
}

// pacedFlash wraps a simulated chip so that each operation takes, in real
// time, the datasheet time it charged (Options.Pace).
func pacedFlash(f hal.Flash) hal.Flash {
	return &tappedFlash{Flash: f, around: func(op func() error) error {
		before, _ := hal.StatsOf(f)
		err := op()
		after, _ := hal.StatsOf(f)
		time.Sleep(after.Elapsed - before.Elapsed)
		return err
	}}
}

// tappedFlash is a chip with hooks on each operation: around runs it (nil:
// just run it), after sees its error. It keeps the chip's optional
// abilities (statistics, bad blocks, piecewise reads); the daemon closes
// the chip below itself.
type tappedFlash struct {
	hal.Flash
	around func(op func() error) error
	after  func(err error)
}

var (
	_ hal.Stater      = (*tappedFlash)(nil)
	_ hal.BadBlocker  = (*tappedFlash)(nil)
	_ hal.PieceReader = (*tappedFlash)(nil)
)

// run runs op through the hooks.
func (t *tappedFlash) run(op func() error) error {
	var err error
	if t.around != nil {
		err = t.around(op)
	} else {
		err = op()
	}
	if t.after != nil {
		t.after(err)
	}
	return err
}

// ReadAt reads through the hooks.
func (t *tappedFlash) ReadAt(p []byte, off int64) (n int, err error) {
	err = t.run(func() error { n, err = t.Flash.ReadAt(p, off); return err })
	return n, err
}

// ReadAtPieces reads through the hooks, handing on the chip's pieces.
func (t *tappedFlash) ReadAtPieces(p []byte, off int64, piece func(int)) (n int, err error) {
	err = t.run(func() error { n, err = hal.ReadAtPieces(t.Flash, p, off, piece); return err })
	return n, err
}

// WriteAt programs through the hooks.
func (t *tappedFlash) WriteAt(p []byte, off int64) (n int, err error) {
	err = t.run(func() error { n, err = t.Flash.WriteAt(p, off); return err })
	return n, err
}

// Erase erases through the hooks.
func (t *tappedFlash) Erase(off, n int64) error {
	return t.run(func() error { return t.Flash.Erase(off, n) })
}

// Unwrap returns the chip (hal.Wrapper).
func (t *tappedFlash) Unwrap() hal.Flash { return t.Flash }

// Stats returns the chip's statistics (zero if it keeps none).
func (t *tappedFlash) Stats() hal.Stats {
	s, _ := hal.StatsOf(t.Flash)
	return s
}

// IsBad asks the chip.
func (t *tappedFlash) IsBad(off int64) (bool, error) { return hal.IsBad(t.Flash, off) }

// MarkBad asks the chip.
func (t *tappedFlash) MarkBad(off int64) error { return hal.MarkBad(t.Flash, off) }

// Faults returns the fault schedule injected into the chips and the
// operations counted so far (from the first one Open made), or false
// without Options.Faults.
func (d *Daemon) Faults() (faults.Schedule, int64, bool) {
	if d.injector == nil || d.opts.Faults == nil {
		return faults.Schedule{}, 0, false
	}
	return *d.opts.Faults, d.injector.Ops(), true
}
