package faults

import (
	"errors"
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/hal"
)

// Flash is a hal.Flash that passes operations to the flash it wraps after
// its [Injector] has applied the schedule. It also implements hal.BadBlocker
// (its own bad blocks, then the wrapped device's) and hal.Stater (the wrapped
// device's statistics, if any).
type Flash struct {
	injector *Injector
	wrapped  hal.Flash
	role     Role
	geometry hal.Geometry
}

// Unwrap returns the wrapped flash.
func (w *Flash) Unwrap() hal.Flash { return w.wrapped }

// Geometry returns the wrapped device's geometry.
func (w *Flash) Geometry() hal.Geometry { return w.geometry }

// Stats returns the wrapped device's statistics (zero if it keeps none).
func (w *Flash) Stats() hal.Stats {
	s, _ := hal.StatsOf(w.wrapped)
	return s
}

// IsBad reports a block bad if the schedule made it bad or the device says so.
func (w *Flash) IsBad(off int64) (bool, error) {
	w.injector.mu.Lock()
	bad := w.injector.badBlocks[blockKey{w.role, off / w.geometry.EraseSize}]
	w.injector.mu.Unlock()
	if bad {
		return true, nil
	}
	return hal.IsBad(w.wrapped, off)
}

// MarkBad marks the block bad on the device, or in the injector when the
// device has no bad-block management.
func (w *Flash) MarkBad(off int64) error {
	if err := hal.MarkBad(w.wrapped, off); err != nil {
		if !errors.Is(err, hal.ErrUnsupported) {
			return err
		}
		w.injector.mu.Lock()
		w.injector.markBad(w.role, off/w.geometry.EraseSize)
		w.injector.mu.Unlock()
	}
	return nil
}

func (w *Flash) opError(op Kind, off, n int64, errs ...error) error {
	name := map[Kind]string{Read: "read", Program: "program", Erase: "erase"}[op]
	return &hal.OpError{Op: name, Dev: w.geometry.Name, Off: off, Len: n,
		Err: fmt.Errorf("%w: %w", errors.Join(errs...), hal.ErrInjected)}
}

// ReadAt reads through the schedule.
func (w *Flash) ReadAt(p []byte, off int64) (int, error) {
	return w.read(p, off, nil)
}

// ReadAtPieces is ReadAt through the schedule (one operation) that hands
// the wrapped device's pieces on (hal.ReadAtPieces); a read of an area
// made unstable by a torn operation is read whole first, then its pieces
// are handed on at once.
func (w *Flash) ReadAtPieces(p []byte, off int64, piece func(filled int)) (int, error) {
	return w.read(p, off, piece)
}

// read is ReadAt (piece nil) or ReadAtPieces.
func (w *Flash) read(p []byte, off int64, piece func(filled int)) (int, error) {
	if err := hal.CheckRange(w.geometry, "read", off, int64(len(p))); err != nil {
		return 0, err
	}
	in := w.injector
	start := in.now()
	d := in.before(w, Read, off, int64(len(p)), nil)
	if d.err != nil {
		in.answered(d, start, d.err)
		return 0, d.err
	}
	spans := d.unstable
	var n int
	var err error
	switch {
	case len(spans) > 0:
		if n, err = w.wrapped.ReadAt(p, off); err == nil {
			in.shake(spans, p, off)
			if piece != nil {
				piece(len(p))
			}
		}
	case piece != nil:
		n, err = hal.ReadAtPieces(w.wrapped, p, off, piece)
	default:
		n, err = w.wrapped.ReadAt(p, off)
	}
	if err == nil && d.weakLeft {
		in.readWeak(w, off, int64(len(p)))
	}
	in.answered(d, start, err)
	return n, err
}

// WriteAt programs through the schedule (page by page with
// Options.SplitPages). On error it returns the bytes of the pages done.
func (w *Flash) WriteAt(p []byte, off int64) (int, error) {
	if err := hal.CheckProgram(w.geometry, off, int64(len(p))); err != nil {
		return 0, err
	}
	if !w.injector.options.SplitPages || int64(len(p)) <= w.geometry.PageSize {
		return w.program(p, off)
	}
	page := max(w.geometry.PageSize, w.geometry.WriteSize)
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		k := min(int64(len(p)-done), page-pos%page)
		n, err := w.program(p[done:done+int(k)], pos)
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// program is one program operation through the schedule.
func (w *Flash) program(p []byte, off int64) (int, error) {
	in := w.injector
	start := in.now()
	n := int64(len(p))
	d := in.before(w, Program, off, n, p)
	if d.err != nil {
		in.answered(d, start, d.err)
		return 0, d.err
	}
	done, err := w.wrapped.WriteAt(p, off)
	if err == nil && d.weak {
		in.mu.Lock()
		in.weaken(w.role, off, n)
		in.mu.Unlock()
	}
	in.answered(d, start, err)
	return done, err
}

// Erase erases through the schedule (block by block with
// Options.SplitPages).
func (w *Flash) Erase(off, n int64) error {
	if err := hal.CheckErase(w.geometry, off, n); err != nil {
		return err
	}
	in := w.injector
	for pos := off; pos < off+n; {
		step := off + n - pos
		if in.options.SplitPages {
			step = w.geometry.EraseSize
			if be := in.options.BlockEraseSize; be > step && pos%be == 0 && off+n-pos >= be {
				step = be
			}
		}
		start := in.now()
		d := in.before(w, Erase, pos, step, nil)
		var err error
		switch {
		case d.err != nil:
			err = d.err
		case d.silent:
		default:
			err = w.wrapped.Erase(pos, step)
		}
		in.answered(d, start, err)
		if err != nil {
			return err
		}
		pos += step
	}
	return nil
}

// now returns the clock's time if it tells it (Options.Clock is a Timer).
func (in *Injector) now() time.Time {
	if in.timer != nil {
		return in.timer.Now()
	}
	return time.Time{}
}
