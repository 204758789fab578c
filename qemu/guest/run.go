package guest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// ErrRoundFailed is wrapped by Run's error when every round ran but the
// last one failed (the engine's LastError follows it).
var ErrRoundFailed = errors.New("last round failed")

// Run is the guest service: on the chips pf (primary) and bf (backup) it
// formats (c.Format: both chips, destroying what they hold) and marks
// blocks bad (c.MarkBad), opens the engine (recovering what a power cut
// left), waits for a line on hold when c.Hold, repairs torn records on the
// primary (when c.Activity is set), then runs c.Rounds rounds, each after
// c.Activity of seeded CMC activity on the primary. Every step prints a
// Line on out; a step that fails prints an error line and ends Run with
// its error. Run returns an error wrapping ErrRoundFailed when the last
// round failed, and ctx's error when ctx ends it. It does not close the
// chips. hold may be nil unless c.Hold is set.
func Run(ctx context.Context, c Command, pf, bf hal.Flash, out *Writer, hold io.Reader) error {
	if c.Rounds < 0 {
		return fmt.Errorf("rounds %d: want 0 (until killed) or more", c.Rounds)
	}
	if c.Hold && hold == nil {
		return errors.New("hold: no input to wait for the go-ahead on")
	}
	fail := func(round int, err error) error {
		out.Emit(Line{Event: EventError, Round: round, Error: err.Error()})
		return err
	}
	if c.Format {
		t0 := time.Now()
		if _, err := engine.FormatAndFill(pf, bf, engine.Options{Clock: hal.SystemClock{}, Config: engine.DefaultConfig()}, cmcsim.New(c.Seed).Populate); err != nil {
			return fail(0, err)
		}
		out.Emit(Line{Event: EventFormat, ElapsedSeconds: SecondsOf(time.Since(t0))})
	}
	if len(c.MarkBad) > 0 {
		if err := markBlocksBad(pf, bf, c.MarkBad); err != nil {
			return fail(0, err)
		}
		out.Emit(Line{Event: EventMarkBad, Detail: "marked bad: " + FormatBadBlocks(c.MarkBad)})
	}
	var tracer *writeTracer
	if c.TraceWrites {
		tracer, bf = traceWrites(bf, func(round int) { out.Emit(Line{Event: EventBackupWrite, Round: round}) })
	}
	start := time.Now()
	eng, err := engine.Open(ctx, pf, bf, engine.Options{Clock: hal.SystemClock{}, Mutant: c.Mutant})
	if err != nil {
		return fail(0, fmt.Errorf("open engine: %w", err))
	}
	st := eng.Status()
	out.Emit(Line{Event: EventOpen, ElapsedSeconds: SecondsOf(time.Since(start)), Generation: st.Generation, Status: &st, Events: eng.Events()})

	if c.Hold {
		if _, err := bufio.NewReader(hold).ReadString('\n'); err != nil {
			return fmt.Errorf("waiting for the go-ahead: %w", err)
		}
	}
	l := eng.Layout()
	if c.Activity > 0 {
		repaired, err := repairRegion(eng.Primary(), l)
		if err != nil {
			return fail(0, fmt.Errorf("repair the primary's information: %w", err))
		}
		if len(repaired) > 0 {
			out.Emit(Line{Event: EventRepair, Detail: "torn records reset to defaults: " + info.FormatList(repaired)})
		}
	}
	gen := cmcsim.New(c.Seed)
	for i := 1; c.Rounds == 0 || i <= c.Rounds; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if c.Activity > 0 {
			region, err := info.OpenRegion(eng.Primary(), l.InfoOff, l.InfoSize)
			if err == nil {
				err = gen.Step(region, c.Activity)
			}
			if err != nil {
				return fail(i, fmt.Errorf("cmc activity on the primary: %w", err))
			}
		}
		if tracer != nil {
			tracer.arm(i)
		}
		out.Emit(Line{Event: EventRoundStart, Round: i, Generation: eng.Status().Generation})
		t0 := time.Now()
		rep, err := eng.Round(ctx)
		st := eng.Status()
		line := Line{Event: EventRound, Round: i, ElapsedSeconds: SecondsOf(time.Since(t0)), Report: &rep, Generation: st.Generation, Types: st.Types}
		if err != nil {
			line.Error = err.Error()
		}
		out.Emit(line)
		if c.Pause > 0 {
			if err := (hal.SystemClock{}).Sleep(ctx, c.Pause); err != nil {
				return err
			}
		}
	}
	st = eng.Status()
	out.Emit(Line{Event: EventDone, ElapsedSeconds: SecondsOf(time.Since(start)), Generation: st.Generation, Status: &st})
	if st.LastError != "" {
		return fmt.Errorf("%w: %s", ErrRoundFailed, st.LastError)
	}
	return nil
}
