package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
)

// Fault injection in the engine's tests goes through the faults package's
// schedules: each test states its fault as one schedule line (printed in
// the test log, so a failure replays from it), and an injector wraps both
// chips of the pair, chip A as the schedule's primary and chip B as its
// backup. The injector is disarmed while the engine opens: operation 0 of
// a schedule is the first flash operation after Open.
//
// Schedules name operations by index. A test that needs a fault at a
// point of the round ("in the middle of the chunk writes") finds that
// point's index in the trace of the same round run without faults
// (traceRound): the simulated chips are deterministic, so the round under
// the schedule makes the same operations up to the fault.

// injector returns an injector of the schedule whose text is format with
// args (see faults.ParseSchedule), with p's clock for delays, and p's
// chips wrapped by it. A disarmed injector counts and faults nothing until
// Arm. trace may be nil.
func (p *pair) injector(t testing.TB, disarmed bool, trace faults.Trace, format string, args ...any) (in *faults.Injector, chipA, chipB hal.Flash) {
	t.Helper()
	s, err := faults.ParseSchedule(fmt.Sprintf(format, args...))
	require.NoError(t, err)
	t.Logf("fault schedule: %v", s)
	in = faults.NewInjector(s, faults.Options{Clock: p.clock, Disarmed: disarmed, Trace: trace})
	return in, in.Wrap(p.chipA, faults.Primary), in.Wrap(p.chipB, faults.Backup)
}

// openWithFaults opens an engine with opts on p's chips behind an
// injector of the schedule (format with args), armed once the engine is
// open.
func (p *pair) openWithFaults(t testing.TB, opts Options, format string, args ...any) (*Engine, *faults.Injector) {
	t.Helper()
	in, chipA, chipB := p.injector(t, true, nil, format, args...)
	e, err := Open(context.Background(), chipA, chipB, opts)
	require.NoError(t, err)
	in.Arm()
	return e, in
}

// traceRound returns the flash operations of one round of an engine opened
// with opts on p's chips behind an injector of the schedule (format with
// args; "none" for a round without faults), indexed as openWithFaults
// indexes them; then it puts the chips back as they were.
func (p *pair) traceRound(t testing.TB, opts Options, format string, args ...any) []faults.Op {
	t.Helper()
	return p.trace(t, true, func(in *faults.Injector, chipA, chipB hal.Flash) {
		e, err := Open(context.Background(), chipA, chipB, opts)
		require.NoError(t, err)
		in.Arm()
		_, err = e.Round(context.Background())
		require.NoError(t, err)
	}, format, args...)
}

// traceOpen returns the flash operations of Open with opts on p's chips
// behind an injector armed from the start, so indexed as an injector
// armed from the start indexes Open's operations (the recovery of an
// interrupted round); then it puts the chips back as they were.
func (p *pair) traceOpen(t testing.TB, opts Options) []faults.Op {
	t.Helper()
	return p.trace(t, false, func(_ *faults.Injector, chipA, chipB hal.Flash) {
		_, err := Open(context.Background(), chipA, chipB, opts)
		require.NoError(t, err)
	}, "none")
}

// trace runs run on p's chips behind an injector of the schedule (armed
// from the start unless disarmed) and returns the operations it traced,
// without their data; then it puts the chips back as they were.
func (p *pair) trace(t testing.TB, disarmed bool, run func(in *faults.Injector, chipA, chipB hal.Flash), format string, args ...any) []faults.Op {
	t.Helper()
	snapA, snapB := p.chipA.Snapshot(), p.chipB.Snapshot()
	defer func() {
		p.chipA.Restore(snapA)
		p.chipB.Restore(snapB)
	}()
	var ops []faults.Op
	in, chipA, chipB := p.injector(t, disarmed, func(op faults.Op) {
		op.Data = nil
		ops = append(ops, op)
	}, format, args...)
	run(in, chipA, chipB)
	return ops
}

// primaryReadsAfter returns the indexes of the primary's reads that come
// after the backup's programs-th program in ops.
func primaryReadsAfter(t testing.TB, ops []faults.Op, programs int) []int64 {
	t.Helper()
	var reads []int64
	for _, op := range ops {
		switch {
		case programs > 0:
			if op.Role == faults.Backup && op.Kind == faults.Program {
				programs--
			}
		case op.Role == faults.Primary && op.Kind == faults.Read:
			reads = append(reads, op.Index)
		}
	}
	require.NotEmpty(t, reads, "no read of the primary after the backup's programs")
	return reads
}

// midWrite returns the index of the first read of the primary after the
// round's third program of the backup: a probe between the round's chunk
// writes (the intent is written, so an anomaly there leaves blocks to
// purge).
func midWrite(t testing.TB, ops []faults.Op) int64 {
	t.Helper()
	return primaryReadsAfter(t, ops, 3)[0]
}

// firstVerifyRead returns the first read of the backup in [lo, hi) after a
// program there: the read-back of the first chunk written (store
// Options.Verify).
func firstVerifyRead(t testing.TB, ops []faults.Op, lo, hi int64) faults.Op {
	t.Helper()
	programmed := false
	for _, op := range ops {
		if op.Role != faults.Backup || op.Off < lo || op.Off+op.Len > hi {
			continue
		}
		switch {
		case op.Kind == faults.Program:
			programmed = true
		case op.Kind == faults.Read && programmed:
			return op
		}
	}
	t.Fatal("no read of the backup's data after a program there")
	return faults.Op{}
}
