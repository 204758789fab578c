package faults

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cmcsync/cmcsync/hal"
)

// Poker is implemented by simulated flashes that let a harness set raw bytes
// with no programming rules and no time charged (sim.Flash). Torn
// operations, silent erase failures, flips and scribbles use it.
type Poker interface {
	Poke(off int64, p []byte)
}

// Unstabler is implemented by simulated flashes that can make a range read
// differently on each read until it is next programmed or erased
// (sim.Flash). Without it the wrapper imitates unstable reads itself. Torn
// operations with unstable reads and weak programs use it.
type Unstabler interface {
	SetUnstable(off, n int64)
}

// ability returns the first device down f's chain of wrappers (each
// unwrapped with Unwrap, as a *Flash is) that has the ability T (Poker,
// Unstabler): injectors may be stacked, one per phase, over one simulated
// chip.
func ability[T any](f hal.Flash) (T, bool) {
	for {
		if a, ok := f.(T); ok {
			return a, true
		}
		u, ok := f.(interface{ Unwrap() hal.Flash })
		if !ok {
			var zero T
			return zero, false
		}
		f = u.Unwrap()
	}
}

// Advancer is a virtual clock that a harness can move forward (sim.Clock).
type Advancer interface {
	Advance(d time.Duration)
}

// Timer is a clock that tells the time. An Options.Clock that is also a
// Timer (sim.Clock is) gives every [Answer] its start and end time.
type Timer interface {
	Now() time.Time
}

// Trace is called with each operation before the injector decides on it.
// It runs on the goroutine that called the flash and must not call the
// wrapped flashes.
type Trace func(op Op)

// Options configure an [Injector].
type Options struct {
	// Clock is advanced by [Delay] actions; nil makes delays an error
	// reported by [Injector.Err]. If it is also a [Timer], answers carry
	// times.
	Clock Advancer
	// Trace, if set, sees every operation before it runs.
	Trace Trace
	// Answered, if set, sees how every operation ended (see [Answer]),
	// once it returned. Like Trace it must not call the wrapped flashes.
	Answered func(Answer)
	// StartIndex is the global index of the first operation counted. A
	// campaign that branches from a snapshot taken before operation N of a
	// recorded run sets it to N, so rules and seeded choices see the same
	// indexes as a replay of the whole run.
	StartIndex int64
	// SplitPages issues each program to the wrapped device one program
	// page at a time, and each erase one erase block at a time, each an
	// operation of its own, as an SPI NOR driver issues its page-program
	// and sector-erase commands: a power cut can then fall between the
	// pages of one WriteAt.
	SplitPages bool
	// BlockEraseSize, with SplitPages, issues each aligned whole span of
	// this many bytes as one erase operation (the 64 KiB block-erase
	// command a driver could use for such spans) and the rest block by
	// block; 0 erases block by block. Linux's spi-nor core erases a
	// uniform-erase chip one erase-size unit at a time (see sim.EraseModel),
	// so the project's harnesses leave it 0: every unit erase is an
	// operation a power cut can fall before.
	BlockEraseSize int64
	// Disarmed starts the injector disarmed: operations pass through
	// uncounted, untraced and unfaulted until Arm is called (for example
	// while an engine opens, before the round under test).
	Disarmed bool
}

// Fired records one action that fired.
type Fired struct {
	Op     Op
	Action Action
}

// String formats as "#41 backup program [0x3000+0x100]: (torn bits)".
func (f Fired) String() string { return f.Op.String() + ": " + f.Do() }

// Do returns the action's text.
func (f Fired) Do() string { return f.Action.String() }

// Injector applies one schedule to the devices it wraps. It counts their
// operations together and holds their shared power state and media faults
// (bad and worn-out blocks, emulated unstable ranges, weakly programmed
// ranges, and the ranges flips and scribbles changed). It is safe for
// concurrent use; operations are serialised through it.
type Injector struct {
	mu           sync.Mutex
	disarmed     bool
	schedule     Schedule
	options      Options
	nextIndex    int64
	nextDevIndex [3]int64
	poweredOff   bool
	devices      [3]*Flash
	fired        []Fired
	err          error
	badBlocks    map[blockKey]bool
	wornBlocks   map[blockKey]bool
	unstable     map[Role][]span
	weak         map[Role][]span
	corrupted    map[Role][]Span
	cancel       func() // cancels the context Context returned (Cancel)
	// classes are the classes of the schedule's rules' predicates (by
	// rule): before skips the Match of a rule whose class leaves the
	// operation out. timer is Options.Clock as a Timer (nil if it is not).
	classes []opClass
	timer   Timer
}

type blockKey struct {
	role  Role
	block int64
}

type span struct{ start, size int64 }

// NewInjector returns an injector for s. s must be valid (see
// [Schedule.Validate]); an invalid schedule is reported by Err and injects
// nothing.
func NewInjector(s Schedule, o Options) *Injector {
	in := &Injector{schedule: s, options: o, nextIndex: o.StartIndex, disarmed: o.Disarmed}
	if err := s.Validate(); err != nil {
		in.err = err
		in.schedule = Schedule{}
	}
	in.classes = make([]opClass, len(in.schedule.Rules))
	for i, r := range in.schedule.Rules {
		in.classes[i] = classOf(r.When)
	}
	in.timer, _ = o.Clock.(Timer)
	return in
}

// Wrap returns f wrapped as the device role. Each role may be wrapped once.
func (in *Injector) Wrap(f hal.Flash, role Role) *Flash {
	w := &Flash{injector: in, wrapped: f, role: role, geometry: f.Geometry()}
	in.mu.Lock()
	in.devices[role] = w
	in.mu.Unlock()
	return w
}

// Arm starts counting, tracing and faulting operations (see
// Options.Disarmed).
func (in *Injector) Arm() {
	in.mu.Lock()
	in.disarmed = false
	in.mu.Unlock()
}

// Disarm stops counting, tracing and faulting operations until Arm: they
// pass through as if the injector were not there (standing media faults
// included).
func (in *Injector) Disarm() {
	in.mu.Lock()
	in.disarmed = true
	in.mu.Unlock()
}

// Ops returns the global index the next operation will get: StartIndex plus
// the operations counted so far.
func (in *Injector) Ops() int64 {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.nextIndex
}

// PoweredOff reports whether a cut or torn operation has fired.
func (in *Injector) PoweredOff() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.poweredOff
}

// PowerOn restores power after a cut (a restart), keeping the operation
// count, bad and worn blocks, unstable and weak ranges.
func (in *Injector) PowerOn() {
	in.mu.Lock()
	in.poweredOff = false
	in.mu.Unlock()
}

// Fired returns the actions that fired, in order.
func (in *Injector) Fired() []Fired {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]Fired(nil), in.fired...)
}

// Err returns the first error of the harness itself (an invalid schedule, an
// action the device cannot imitate), or nil.
func (in *Injector) Err() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.err
}

func (in *Injector) harnessErr(err error) {
	if in.err == nil {
		in.err = err
	}
}

// decision is what before decided for one operation.
type decision struct {
	op Op
	// counted is false while the injector is disarmed (nothing happened).
	counted bool
	// err is the error the operation fails with; nil lets it run.
	err error
	// silent: report success without running it (a silent erase failure
	// did what it does instead).
	silent bool
	// weak: a program that runs, then reads right once (see Weak).
	weak bool
	// For a read that runs: the device's unstable ranges, and whether it
	// has weakly programmed ranges not read yet (see readWeak), as they
	// were when before decided.
	unstable []span
	weakLeft bool
}

// before counts the operation, runs the trace and the matching actions, and
// decides what the operation does. A program or erase that is to run has
// its range settled (settleLocked) before before returns, under the same lock; a
// read that is to run gets the device's unstable and weak state in d.
func (in *Injector) before(w *Flash, kind Kind, off, n int64, data []byte) decision {
	in.mu.Lock()
	defer in.mu.Unlock()
	d := in.decideOp(w, kind, off, n, data)
	if d.err != nil || d.silent {
		return d
	}
	if kind == Read {
		d.unstable, d.weakLeft = in.unstable[w.role], len(in.weak[w.role]) > 0
	} else {
		in.settleLocked(w.role, off, n, kind == Erase)
	}
	return d
}

// decideOp is before's decision, with in.mu held.
func (in *Injector) decideOp(w *Flash, kind Kind, off, n int64, data []byte) decision {
	if in.disarmed {
		return decision{}
	}
	d := decision{counted: true}
	d.op = Op{Index: in.nextIndex, DevIndex: in.nextDevIndex[w.role], Role: w.role, Kind: kind, Off: off, Len: n, Data: data}
	in.nextIndex++
	in.nextDevIndex[w.role]++
	if in.options.Trace != nil {
		in.options.Trace(d.op)
	}
	if in.poweredOff {
		d.err = w.opError(kind, off, n, hal.ErrPowerLoss)
		return d
	}
	var outcome Action
	for i, r := range in.schedule.Rules {
		if !in.classes[i].admits(d.op) || !r.When.Match(d.op) {
			continue
		}
		if r.Do.outcome() {
			if outcome == nil {
				outcome = r.Do
			}
			continue
		}
		in.fired = append(in.fired, Fired{d.op.withoutData(), r.Do})
		in.side(d.op, r.Do)
	}
	// Standing media faults.
	first, last := off/w.geometry.EraseSize, (off+max(n, 1)-1)/w.geometry.EraseSize
	for b := first; b <= last && in.badBlocks != nil; b++ {
		if in.badBlocks[blockKey{w.role, b}] {
			d.err = w.opError(kind, off, n, hal.ErrBadBlock)
			return d
		}
	}
	if kind == Erase && in.wornBlocks != nil {
		for b := first; b <= last; b++ {
			if in.wornBlocks[blockKey{w.role, b}] {
				d.err = w.opError(kind, off, n, hal.ErrWornOut)
				return d
			}
		}
	}
	if outcome != nil {
		in.fired = append(in.fired, Fired{d.op.withoutData(), outcome})
		in.decide(w, &d, outcome, first, last)
	}
	return d
}

// decide applies an outcome action to d's operation (blocks first to
// last).
func (in *Injector) decide(w *Flash, d *decision, outcome Action, first, last int64) {
	op := d.op
	kind, off, n := op.Kind, op.Off, op.Len
	switch a := outcome.(type) {
	case Cut:
		in.poweredOff = true
		d.err = w.opError(kind, off, n, hal.ErrPowerLoss)
	case Torn:
		in.poweredOff = true
		if kind != Read {
			in.tear(w, op, a, op.Data)
		}
		d.err = w.opError(kind, off, n, hal.ErrPowerLoss)
	case Fail:
		if a.Kind == FailTimeout {
			d.err = w.opError(kind, off, n, hal.ErrTimeout)
		} else {
			d.err = w.opError(kind, off, n, hal.ErrMedia)
		}
	case GoBad:
		for b := first; b <= last; b++ {
			in.markBad(w.role, b)
		}
		d.err = w.opError(kind, off, n, hal.ErrBadBlock)
	case WearOut:
		if in.wornBlocks == nil {
			in.wornBlocks = map[blockKey]bool{}
		}
		for b := first; b <= last; b++ {
			in.wornBlocks[blockKey{w.role, b}] = true
		}
		if kind == Erase {
			d.err = w.opError(kind, off, n, hal.ErrWornOut)
		}
	case SilentErase:
		if kind == Erase {
			in.silentErase(w, op, a)
			d.silent = true
		}
	case Weak:
		d.weak = kind == Program
	}
}

func (in *Injector) rng(op Op, salt uint64) *rand.Rand {
	return rand.New(rand.NewPCG(in.schedule.Seed^salt, uint64(op.Index)^0x6a09e667f3bcc908))
}

func (in *Injector) markBad(r Role, block int64) {
	if in.badBlocks == nil {
		in.badBlocks = map[blockKey]bool{}
	}
	in.badBlocks[blockKey{r, block}] = true
}
