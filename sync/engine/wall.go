package engine

import "time"

// The engine reads two kinds of time from its clock:
//
//   - durations and waits: a round's duration, the wait-response measured
//     against the threshold, the spacing of the primary's probes, the
//     sleeps of Run and of the wait-response;
//   - dates: the time a format, a reseed and an image header record, a
//     committed generation's sync time and next sync, a round's start,
//     events, the last scrub, and the schedule Run compares with now.
//
// On real chips and in a campaign both come from Options.Clock (the wall
// clock, or one virtual clock). A command that runs simulated chips in
// real time (cmcsync sync, reseed, failback ...) gives the engine the
// chips' virtual clock, so that a round lasts its datasheet time and an
// injected delay counts against the threshold; that clock runs ahead of
// the wall clock by all the flash time charged so far (a --populate of two
// 32 MiB chips: some 40 s before the round starts, 8 s more in it), and a
// date read from it would be recorded that far in the future, and later
// than the next command's. Such a command sets Options.Wall to time.Now:
// dates come from it, durations and waits from Clock.

// now returns the date to record (Options.Wall, else Clock).
func (o *Options) now() time.Time {
	if o.Wall != nil {
		return o.Wall()
	}
	return o.Clock.Now()
}

// now returns the date to record (Options.Wall, else the engine's clock).
func (e *Engine) now() time.Time {
	if e.opts.Wall != nil {
		return e.opts.Wall()
	}
	return e.clock.Now()
}
