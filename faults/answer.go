package faults

import "time"

// Answer is how one operation ended, as the injector saw it: plain facts
// for an oracle, which judges them (the injector knows nothing of what the
// bytes mean, nor of a response-time threshold).
type Answer struct {
	Op Op // without Data
	// Start is the virtual time the operation was issued at (before any
	// Delay), End the time it returned at. Both are zero unless
	// Options.Clock is also a [Timer].
	Start, End time.Time
	// Err is the error the operation returned, nil if it succeeded (a
	// silent erase failure succeeds).
	Err error
	// Corrupted: a read that returned bytes a Flip or Scribble had changed
	// (see [Injector.Corrupted]); CorruptedAt is then the index of the
	// operation before which the earliest of those changes was made.
	Corrupted   bool
	CorruptedAt int64
}

// Duration is the time from the operation's issue to its return.
func (a Answer) Duration() time.Duration { return a.End.Sub(a.Start) }

// Answered reports whether the device answered the operation: it did not
// fail and, for a read, returned no bytes a flip or scribble changed.
// Whether it answered in time is for the caller to judge from Duration.
func (a Answer) Answered() bool { return a.Err == nil && !a.Corrupted }

// answered hands the answer of the operation d decided (issued at start,
// returned with err) to Options.Answered.
func (in *Injector) answered(d decision, start time.Time, err error) {
	if !d.counted || in.options.Answered == nil {
		return
	}
	a := Answer{Op: d.op.withoutData(), Start: start, End: in.now(), Err: err}
	in.mu.Lock()
	defer in.mu.Unlock()
	if err == nil && d.op.Kind == Read {
		a.CorruptedAt, a.Corrupted = in.corruptedRead(d.op.Role, d.op.Off, d.op.Len)
	}
	in.options.Answered(a)
}
