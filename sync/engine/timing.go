package engine

import (
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/hal"
)

// timedPrimary is the primary as a round reads it: it notes when each read
// (a request the primary must answer) started, and the start of the first
// read since mark that took longer than the threshold, so that an
// anomaly's wait-response is timed from the first request the primary did
// not answer in time (a failed one, or one slower than the threshold), not
// from the start of a probe or record read whose earlier requests were
// answered in time.
type timedPrimary struct {
	hal.Flash
	clock          hal.Clock
	threshold      time.Duration
	lastStart      time.Time     // of the last read
	firstSlowStart time.Time     // start of the first read slower than threshold since mark
	slowestRead    time.Duration // the longest read since mark
}

// timed runs read as one request to the primary and notes its timing.
func (t *timedPrimary) timed(read func() (int, error)) (int, error) {
	t.lastStart = t.clock.Now()
	n, err := read()
	d := t.clock.Now().Sub(t.lastStart)
	t.slowestRead = max(t.slowestRead, d)
	if t.firstSlowStart.IsZero() && d > t.threshold {
		t.firstSlowStart = t.lastStart
	}
	return n, err
}

// ReadAt reads the primary as one timed request.
func (t *timedPrimary) ReadAt(p []byte, off int64) (int, error) {
	return t.timed(func() (int, error) { return t.Flash.ReadAt(p, off) })
}

// ReadAtPieces reads the primary as one timed request, handing on its
// pieces (hal.ReadAtPieces).
func (t *timedPrimary) ReadAtPieces(p []byte, off int64, piece func(int)) (int, error) {
	return t.timed(func() (int, error) { return hal.ReadAtPieces(t.Flash, p, off, piece) })
}

// mark starts a new group of requests (a probe, a record read).
func (t *timedPrimary) mark() { t.firstSlowStart, t.slowestRead = time.Time{}, 0 }

// slow returns an error wrapping errSlow if a read since mark took longer
// than the threshold, even one that answered right: a slow answer is an
// anomaly whatever step asked it; else nil.
func (t *timedPrimary) slow() error {
	if t.firstSlowStart.IsZero() {
		return nil
	}
	return fmt.Errorf("%w: %v", errSlow, t.slowestRead)
}

// failedAt returns when the anomaly of a group that ended with the last
// read began: the first read slower than the threshold, if any, else the
// last read.
func (t *timedPrimary) failedAt() time.Time {
	if !t.firstSlowStart.IsZero() {
		return t.firstSlowStart
	}
	return t.lastStart
}
