package guest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"
	"time"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// Replay phases: the round under a fault schedule (cut by the power loss
// the schedule names), or the recovery at the next boot.
const (
	PhaseRound   = "round"
	PhaseRecover = "recover"
)

// ReplayCommand is the command line of `cmcsync guest replay`: one phase
// of a campaign case (a replay line) on the real chips, with the
// simulator's virtual clock and operation order. The host types String;
// the guest parses it with Flags.
type ReplayCommand struct {
	Primary, Backup string
	// Part and Size are the simulated chips the campaign's scenario uses:
	// the engine sees the first Size bytes of each real chip, and every
	// operation advances the virtual clock by the part's typical time
	// (sim.Metered).
	Part string
	Size int64
	// Region is the primary's information region size (the layout is
	// engine.DefaultLayout of the simulated chip and Region).
	Region int64
	// Types, Interval and Threshold are the engine configuration the
	// campaign opens with; ProbeEvery its probe interval.
	Types               []info.Type
	Interval, Threshold time.Duration
	ProbeEvery          time.Duration
	Mutant              engine.Mutant
	Phase               string
	// Clock is the virtual time the phase starts at (Unix nanoseconds):
	// the campaign's base time for the round, the time just before the
	// cut operation for the recovery.
	Clock int64
	// Schedule is the round's fault schedule (faults.ParseSchedule text);
	// only cuts, failures and delays, which need no access to the cells,
	// can be applied to a real chip.
	Schedule string
	// ExitAtCut ends the round at the cut (after the cut line) instead of
	// waiting for the power to go: for a chip that dies with the machine
	// (nandsim), which the host has the guest save before it kills it.
	// Nothing reaches the chips after the cut either way.
	ExitAtCut bool
}

// Flags defines the command's flags on fs, bound to c's fields.
func (c *ReplayCommand) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Primary, "primary", c.Primary, "primary chip (an mtd: or sim: flash spec)")
	fs.StringVar(&c.Backup, "backup", c.Backup, "backup chip")
	fs.StringVar(&c.Part, "part", c.Part, "simulated part whose timings drive the virtual clock")
	fs.Int64Var(&c.Size, "size", c.Size, "simulated chip size in bytes (the engine sees this much of each chip)")
	fs.Int64Var(&c.Region, "region", c.Region, "information region size in bytes")
	fs.Func("types", "information types (comma-separated, or all)", func(s string) error {
		ts, err := info.ParseList(s)
		c.Types = ts
		return err
	})
	fs.DurationVar(&c.Interval, "interval", c.Interval, "configured sync interval")
	fs.DurationVar(&c.Threshold, "threshold", c.Threshold, "configured response-time threshold")
	fs.DurationVar(&c.ProbeEvery, "probe-every", c.ProbeEvery, "the engine's probe interval")
	fs.Var(mutantValue{&c.Mutant}, "mutant", "engine variant `NAME`")
	fs.StringVar(&c.Phase, "phase", c.Phase, "round (under --schedule, stopped at its power cut) or recover")
	fs.Int64Var(&c.Clock, "clock", c.Clock, "virtual time at the start, Unix nanoseconds")
	fs.StringVar(&c.Schedule, "schedule", c.Schedule, "the round's fault schedule")
	fs.BoolVar(&c.ExitAtCut, "exit-at-cut", c.ExitAtCut, "end at the power cut instead of waiting for the machine to be killed (a chip the host saves first)")
}

// Args returns the arguments after "cmcsync guest replay".
func (c ReplayCommand) Args() []string {
	args := []string{"--primary", c.Primary, "--backup", c.Backup, "--part", c.Part,
		"--size", strconv.FormatInt(c.Size, 10), "--region", strconv.FormatInt(c.Region, 10),
		"--types", info.FormatList(c.Types), "--interval", c.Interval.String(), "--threshold", c.Threshold.String(),
		"--probe-every", c.ProbeEvery.String(), "--phase", c.Phase, "--clock", strconv.FormatInt(c.Clock, 10)}
	if c.Mutant != engine.None {
		args = append(args, "--mutant", c.Mutant.String())
	}
	if c.Schedule != "" {
		args = append(args, "--schedule", c.Schedule)
	}
	if c.ExitAtCut {
		args = append(args, "--exit-at-cut")
	}
	return args
}

// String is the shell command line.
func (c ReplayCommand) String() string { return commandLine("cmcsync guest replay", c.Args()) }

// CheckReal reports a schedule action a real chip cannot undergo: only a
// cut (the power lost before an operation), a failure and a delay (answers
// the injector gives instead of the chip's) leave the cells to the chip.
// Torn operations, flips, scribbles, weak programs, silent erases and the
// like need the simulator's access to the cells.
func CheckReal(s faults.Schedule) error {
	for i, r := range s.Rules {
		switch r.Do.(type) {
		case faults.Cut, faults.Fail, faults.Delay:
		default:
			return fmt.Errorf("rule %d: %v cannot be applied to a real chip in QEMU (only cuts, failures and delays can: a torn operation or a damaged cell needs the simulator's access to the cells)", i+1, r.Do)
		}
	}
	return nil
}

// OpTrace is one operation as the guest's injector counted it.
type OpTrace struct {
	Index int64  `json:"i"`
	Role  string `json:"role"`
	Kind  string `json:"kind"`
	Off   int64  `json:"off"`
	Len   int64  `json:"len"`
	// Data is the FNV-1a 64 hash of a program's bytes (0 otherwise).
	Data uint64 `json:"data,omitempty"`
	// Clock is the virtual time just before the operation (Unix ns).
	Clock int64 `json:"clock"`
}

// TraceOf is op as an OpTrace at virtual time at.
func TraceOf(op faults.Op, at time.Time) OpTrace {
	t := OpTrace{Index: op.Index, Role: op.Role.String(), Kind: op.Kind.String(), Off: op.Off, Len: op.Len, Clock: at.UnixNano()}
	if op.Kind == faults.Program {
		h := fnv.New64a()
		h.Write(op.Data)
		t.Data = h.Sum64()
	}
	return t
}

// String formats "#41 backup program 0x3000+0x100 data=…".
func (t OpTrace) String() string {
	s := fmt.Sprintf("#%d %s %s %#x+%#x", t.Index, t.Role, t.Kind, t.Off, t.Len)
	if t.Data != 0 {
		s += fmt.Sprintf(" data=%016x", t.Data)
	}
	return s
}

// RunReplay runs one phase of a replayed case on the raw chips pf and bf
// (which it does not close). Both are seen as the simulated part
// (sim.Metered) on one virtual clock starting at c.Clock and wrapped in a
// fault injector that splits programs and erases as the campaign does,
// and every operation it counts is printed as an op line.
//
// Round: the engine opens (uncounted, as in the campaign), then one round
// runs under c.Schedule. When the schedule cuts the power, the operation
// is not issued (nor any later one), a cut line names its index and
// virtual time, and RunReplay blocks until ctx ends: the host kills the
// machine (with c.ExitAtCut it returns nil instead). Recover: the engine
// opens (recovering), counted from 0 with no
// faults, and an open line reports the generation and events.
func RunReplay(ctx context.Context, c ReplayCommand, pf, bf hal.Flash, out *Writer) error {
	sched, err := faults.ParseSchedule(c.Schedule)
	if err != nil {
		return fmt.Errorf("schedule: %w", err)
	}
	if err := CheckReal(sched); err != nil {
		return err
	}
	if c.Phase != PhaseRound && c.Phase != PhaseRecover {
		return fmt.Errorf("phase %q: want %s or %s", c.Phase, PhaseRound, PhaseRecover)
	}
	if c.Phase == PhaseRecover && len(sched.Rules) > 0 {
		return errors.New("the recovery runs without faults: give no schedule")
	}
	part, err := sim.LookupPart(c.Part)
	if err != nil {
		return err
	}
	clock := sim.NewClock(time.Unix(0, c.Clock).UTC())
	var chips [2]hal.Flash
	for i, f := range []hal.Flash{pf, bf} {
		m, err := sim.NewMetered(f, sim.Options{Part: part, Size: c.Size, Clock: clock})
		if err != nil {
			return err
		}
		chips[i] = m
	}
	l, err := engine.DefaultLayout(chips[0].Geometry(), c.Region)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	var ops []OpTrace
	in := faults.NewInjector(sched, faults.Options{SplitPages: true, Clock: clock,
		Disarmed: c.Phase == PhaseRound, Trace: func(op faults.Op) {
			t := TraceOf(op, clock.Now())
			mu.Lock()
			ops = append(ops, t)
			mu.Unlock()
			out.Emit(Line{Event: EventOp, Op: &t})
		}})
	opts := engine.Options{Clock: clock, Layout: l, Mutant: c.Mutant, ProbeEvery: c.ProbeEvery,
		Config: engine.Config{Types: c.Types, Interval: c.Interval, Threshold: c.Threshold}}
	start := time.Now()
	eng, err := engine.Open(ctx, in.Wrap(chips[0], faults.Primary), in.Wrap(chips[1], faults.Backup), opts)
	if err != nil {
		out.Emit(Line{Event: EventError, Error: "open engine: " + err.Error()})
		return fmt.Errorf("open engine: %w", err)
	}
	st := eng.Status()
	out.Emit(Line{Event: EventOpen, ElapsedSeconds: SecondsOf(time.Since(start)), Generation: st.Generation, Status: &st, Events: eng.Events(), Clock: clock.Now().UnixNano()})
	if c.Phase == PhaseRecover {
		out.Emit(Line{Event: EventDone, Generation: st.Generation, Clock: clock.Now().UnixNano()})
		return in.Err()
	}
	in.Arm()
	t0 := time.Now()
	rep, rerr := eng.Round(ctx)
	if err := in.Err(); err != nil {
		return fmt.Errorf("injector: %w", err)
	}
	if in.PoweredOff() {
		// The operation the schedule cut was traced but never issued,
		// and no later one reached the chips. Tell the host and wait for
		// the power to go.
		var cut OpTrace
		for _, f := range in.Fired() {
			if _, ok := f.Action.(faults.Cut); ok {
				mu.Lock()
				for _, t := range ops {
					if t.Index == f.Op.Index {
						cut = t
					}
				}
				mu.Unlock()
				break
			}
		}
		out.Emit(Line{Event: EventCut, Round: 1, Op: &cut, Clock: cut.Clock, ElapsedSeconds: SecondsOf(time.Since(t0))})
		if c.ExitAtCut {
			return nil
		}
		<-ctx.Done()
		return ctx.Err()
	}
	st = eng.Status()
	line := Line{Event: EventRound, Round: 1, ElapsedSeconds: SecondsOf(time.Since(t0)), Report: &rep, Generation: st.Generation, Types: st.Types, Events: eng.Events(), Clock: clock.Now().UnixNano()}
	if rerr != nil {
		line.Error = rerr.Error()
	}
	out.Emit(line)
	out.Emit(Line{Event: EventDone, Generation: st.Generation, Clock: clock.Now().UnixNano()})
	return nil
}
