package guest

import (
	"sync"

	"github.com/cmcsync/cmcsync/hal"
)

// writeTracer reports the first program or erase of a chip after each arm:
// the moment a round starts changing the backup. Its flash view forwards
// every optional ability of the chip (bad blocks, closing, piece reads,
// statistics) and claims none the chip lacks: hal.StatsOf answers for the
// view as it does for the chip.
type writeTracer struct {
	report func(round int)

	mu    sync.Mutex
	round int
	armed bool
}

// traceWrites wraps f. report runs on the goroutine that writes, before
// the write, once per arm.
func traceWrites(f hal.Flash, report func(round int)) (*writeTracer, hal.Flash) {
	t := &writeTracer{report: report}
	view := &tracedFlash{f: f, tracer: t}
	if _, ok := f.(hal.Stater); ok {
		return t, tracedStater{view}
	}
	return t, view
}

// arm makes the next program or erase report round.
func (t *writeTracer) arm(round int) {
	t.mu.Lock()
	t.round, t.armed = round, true
	t.mu.Unlock()
}

func (t *writeTracer) touched() {
	t.mu.Lock()
	armed, round := t.armed, t.round
	t.armed = false
	t.mu.Unlock()
	if armed {
		t.report(round)
	}
}

// tracedFlash is the tracer's view of a chip that keeps no statistics.
type tracedFlash struct {
	f      hal.Flash
	tracer *writeTracer
}

// ReadAt reads from the chip.
func (v *tracedFlash) ReadAt(p []byte, off int64) (int, error) { return v.f.ReadAt(p, off) }

// ReadAtPieces reads from the chip piece by piece where it can
// (hal.ReadAtPieces).
func (v *tracedFlash) ReadAtPieces(p []byte, off int64, piece func(filled int)) (int, error) {
	return hal.ReadAtPieces(v.f, p, off, piece)
}

// WriteAt reports the first write after an arm, then programs.
func (v *tracedFlash) WriteAt(p []byte, off int64) (int, error) {
	v.tracer.touched()
	return v.f.WriteAt(p, off)
}

// Erase reports the first write after an arm, then erases.
func (v *tracedFlash) Erase(off, n int64) error {
	v.tracer.touched()
	return v.f.Erase(off, n)
}

// Geometry is the chip's.
func (v *tracedFlash) Geometry() hal.Geometry { return v.f.Geometry() }

// IsBad asks the chip (hal.IsBad: never bad without bad-block management).
func (v *tracedFlash) IsBad(off int64) (bool, error) { return hal.IsBad(v.f, off) }

// MarkBad marks on the chip (hal.MarkBad: ErrUnsupported without
// bad-block management).
func (v *tracedFlash) MarkBad(off int64) error { return hal.MarkBad(v.f, off) }

// Close closes the chip (hal.Close).
func (v *tracedFlash) Close() error { return hal.Close(v.f) }

// tracedStater is the tracer's view of a chip that keeps statistics.
type tracedStater struct{ *tracedFlash }

// Stats returns the chip's statistics.
func (v tracedStater) Stats() hal.Stats { return v.f.(hal.Stater).Stats() }
