package faults

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cmcsync/cmcsync/hal"
)

// Poker is implemented by simulated flashes that let a harness set raw bytes
// with no programming rules and no time charged (sim.Flash). Torn
// operations, flips and scribbles use it.
type Poker interface {
	Poke(off int64, p []byte)
}

// Unstabler is implemented by simulated flashes that can make a range read
// differently on each read until it is next programmed or erased
// (sim.Flash). Without it the wrapper imitates unstable reads itself.
type Unstabler interface {
	SetUnstable(off, n int64)
}

// Advancer is a virtual clock that a harness can move forward (sim.Clock).
type Advancer interface {
	Advance(d time.Duration)
}

// Trace is called with each operation before the injector decides on it.
// It runs on the goroutine that called the flash and must not call the
// wrapped flashes.
type Trace func(op Op)

// Options configure an [Injector].
type Options struct {
	// Clock is advanced by [Delay] actions; nil makes delays an error
	// reported by [Injector.Err].
	Clock Advancer
	// Trace, if set, sees every operation before it runs.
	Trace Trace
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
	// command a driver uses for such spans) and the rest block by block;
	// 0 erases block by block.
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
// (bad and worn-out blocks, emulated unstable ranges). It is safe for
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
// count, bad and worn blocks and unstable ranges.
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

func (in *Injector) markBad(r Role, block int64) {
	if in.badBlocks == nil {
		in.badBlocks = map[blockKey]bool{}
	}
	in.badBlocks[blockKey{r, block}] = true
}

func (w *Flash) opError(op Kind, off, n int64, errs ...error) error {
	name := map[Kind]string{Read: "read", Program: "program", Erase: "erase"}[op]
	return &hal.OpError{Op: name, Dev: w.geometry.Name, Off: off, Len: n,
		Err: fmt.Errorf("%w: %w", errors.Join(errs...), hal.ErrInjected)}
}

// ReadAt reads through the schedule.
func (w *Flash) ReadAt(p []byte, off int64) (int, error) {
	if err := hal.CheckRange(w.geometry, "read", off, int64(len(p))); err != nil {
		return 0, err
	}
	if err := w.injector.before(w, Read, off, int64(len(p)), nil); err != nil {
		return 0, err
	}
	n, err := w.wrapped.ReadAt(p, off)
	if err == nil {
		w.injector.mu.Lock()
		spans := w.injector.unstable[w.role]
		w.injector.mu.Unlock()
		if len(spans) > 0 {
			w.injector.shake(spans, p, off)
		}
	}
	return n, err
}

// ReadAtPieces is ReadAt through the schedule (one operation) that hands
// the wrapped device's pieces on (hal.ReadAtPieces); a read of an area
// made unstable by a torn operation is read whole first, then its pieces
// are handed on at once.
func (w *Flash) ReadAtPieces(p []byte, off int64, piece func(filled int)) (int, error) {
	if err := hal.CheckRange(w.geometry, "read", off, int64(len(p))); err != nil {
		return 0, err
	}
	if err := w.injector.before(w, Read, off, int64(len(p)), nil); err != nil {
		return 0, err
	}
	w.injector.mu.Lock()
	spans := w.injector.unstable[w.role]
	w.injector.mu.Unlock()
	if len(spans) == 0 {
		return hal.ReadAtPieces(w.wrapped, p, off, piece)
	}
	n, err := w.wrapped.ReadAt(p, off)
	if err == nil {
		w.injector.shake(spans, p, off)
		piece(len(p))
	}
	return n, err
}

// WriteAt programs through the schedule (page by page with
// Options.SplitPages). On error it returns the bytes of the pages done.
func (w *Flash) WriteAt(p []byte, off int64) (int, error) {
	if err := hal.CheckProgram(w.geometry, off, int64(len(p))); err != nil {
		return 0, err
	}
	if !w.injector.options.SplitPages || int64(len(p)) <= w.geometry.PageSize {
		if err := w.injector.before(w, Program, off, int64(len(p)), p); err != nil {
			return 0, err
		}
		w.injector.settle(w.role, off, int64(len(p)))
		return w.wrapped.WriteAt(p, off)
	}
	page := max(w.geometry.PageSize, w.geometry.WriteSize)
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		k := min(int64(len(p)-done), page-pos%page)
		seg := p[done : done+int(k)]
		if err := w.injector.before(w, Program, pos, k, seg); err != nil {
			return done, err
		}
		w.injector.settle(w.role, pos, k)
		n, err := w.wrapped.WriteAt(seg, pos)
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// Erase erases through the schedule (block by block with
// Options.SplitPages).
func (w *Flash) Erase(off, n int64) error {
	if err := hal.CheckErase(w.geometry, off, n); err != nil {
		return err
	}
	for pos := off; pos < off+n; {
		step := off + n - pos
		if w.injector.options.SplitPages {
			step = w.geometry.EraseSize
			if be := w.injector.options.BlockEraseSize; be > step && pos%be == 0 && off+n-pos >= be {
				step = be
			}
		}
		if err := w.injector.before(w, Erase, pos, step, nil); err != nil {
			return err
		}
		w.injector.settle(w.role, pos, step)
		if err := w.wrapped.Erase(pos, step); err != nil {
			return err
		}
		pos += step
	}
	return nil
}

// before counts the operation, runs the trace and the matching actions, and
// returns the error the operation must fail with, or nil to let it run.
func (in *Injector) before(w *Flash, kind Kind, off, n int64, data []byte) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.disarmed {
		return nil
	}
	op := Op{Index: in.nextIndex, DevIndex: in.nextDevIndex[w.role], Role: w.role, Kind: kind, Off: off, Len: n, Data: data}
	in.nextIndex++
	in.nextDevIndex[w.role]++
	if in.options.Trace != nil {
		in.options.Trace(op)
	}
	if in.poweredOff {
		return w.opError(kind, off, n, hal.ErrPowerLoss)
	}
	var outcome Action
	for _, r := range in.schedule.Rules {
		if !r.When.Match(op) {
			continue
		}
		if r.Do.outcome() {
			if outcome == nil {
				outcome = r.Do
			}
			continue
		}
		in.fired = append(in.fired, Fired{Op{Index: op.Index, DevIndex: op.DevIndex, Role: op.Role, Kind: op.Kind, Off: op.Off, Len: op.Len}, r.Do})
		in.side(op, r.Do)
	}
	// Standing media faults.
	first, last := off/w.geometry.EraseSize, (off+max(n, 1)-1)/w.geometry.EraseSize
	for b := first; b <= last && in.badBlocks != nil; b++ {
		if in.badBlocks[blockKey{w.role, b}] {
			return w.opError(kind, off, n, hal.ErrBadBlock)
		}
	}
	if kind == Erase && in.wornBlocks != nil {
		for b := first; b <= last; b++ {
			if in.wornBlocks[blockKey{w.role, b}] {
				return w.opError(kind, off, n, hal.ErrWornOut)
			}
		}
	}
	if outcome == nil {
		return nil
	}
	op.Data = nil
	in.fired = append(in.fired, Fired{op, outcome})
	switch a := outcome.(type) {
	case Cut:
		in.poweredOff = true
		return w.opError(kind, off, n, hal.ErrPowerLoss)
	case Torn:
		in.poweredOff = true
		if kind != Read {
			in.tear(w, op, a, data)
		}
		return w.opError(kind, off, n, hal.ErrPowerLoss)
	case Fail:
		if a.Kind == FailTimeout {
			return w.opError(kind, off, n, hal.ErrTimeout)
		}
		return w.opError(kind, off, n, hal.ErrMedia)
	case GoBad:
		for b := first; b <= last; b++ {
			in.markBad(w.role, b)
		}
		return w.opError(kind, off, n, hal.ErrBadBlock)
	case WearOut:
		if in.wornBlocks == nil {
			in.wornBlocks = map[blockKey]bool{}
		}
		for b := first; b <= last; b++ {
			in.wornBlocks[blockKey{w.role, b}] = true
		}
		if kind == Erase {
			return w.opError(kind, off, n, hal.ErrWornOut)
		}
	}
	return nil
}

func (in *Injector) rng(op Op, salt uint64) *rand.Rand {
	return rand.New(rand.NewPCG(in.schedule.Seed^salt, uint64(op.Index)^0x6a09e667f3bcc908))
}

// side runs an action that lets the operation proceed.
func (in *Injector) side(op Op, a Action) {
	switch a := a.(type) {
	case Delay:
		if in.options.Clock == nil {
			in.harnessErr(errors.New("delay: the injector has no clock (set Options.Clock)"))
			return
		}
		in.options.Clock.Advance(a.Duration)
	case Flip:
		dev := in.devices[a.Role]
		lo, hi, ok := in.clip(dev, a.Lo, a.Hi)
		if !ok {
			return
		}
		r := in.rng(op, 0xf11b)
		bits := (hi - lo) * 8
		seen := make(map[int64]bool, a.Bits)
		for i := 0; i < a.Bits && int64(len(seen)) < bits; i++ {
			bit := r.Int64N(bits)
			for seen[bit] {
				bit = (bit + 1) % bits
			}
			seen[bit] = true
			var b [1]byte
			if _, err := dev.wrapped.ReadAt(b[:], lo+bit/8); err != nil {
				in.harnessErr(fmt.Errorf("flip: %w", err))
				return
			}
			b[0] ^= 1 << (bit % 8)
			if !in.poke(dev, lo+bit/8, b[:]) {
				return
			}
		}
	case Scribble:
		dev := in.devices[a.Role]
		lo, hi, ok := in.clip(dev, a.Lo, a.Hi)
		if !ok {
			return
		}
		r := in.rng(op, 0x5c1b)
		buf := make([]byte, hi-lo)
		for i := range buf {
			buf[i] = byte(r.Uint32())
		}
		in.poke(dev, lo, buf)
	}
}

// clip limits [lo, hi) to the device; false if the device is missing or the
// range lies outside it.
func (in *Injector) clip(dev *Flash, lo, hi int64) (int64, int64, bool) {
	if dev == nil {
		in.harnessErr(errors.New("corruption of a device that is not wrapped"))
		return 0, 0, false
	}
	hi = min(hi, dev.geometry.Size)
	return lo, hi, lo < hi
}

func (in *Injector) poke(dev *Flash, off int64, p []byte) bool {
	pk, ok := dev.wrapped.(Poker)
	if !ok {
		in.harnessErr(fmt.Errorf("%s cannot be poked: flips and scribbles need a simulated flash", dev.geometry.Name))
		return false
	}
	pk.Poke(off, p)
	return true
}

// tear leaves a program or erase partly done. It reads the old contents
// through the wrapped device (charged like any read) and stores the result
// with Poke when the device has it.
func (in *Injector) tear(w *Flash, op Op, a Torn, data []byte) {
	old := make([]byte, op.Len)
	if _, err := w.wrapped.ReadAt(old, op.Off); err != nil {
		in.harnessErr(fmt.Errorf("torn %v: read: %w", op.Kind, err))
		return
	}
	full := make([]byte, op.Len) // what the complete operation would leave
	for i := range full {
		if op.Kind == Program {
			full[i] = old[i] & data[i]
		} else {
			full[i] = 0xff
		}
	}
	r := in.rng(op, 0x7042)
	res := make([]byte, op.Len)
	switch a.Mode {
	case TornBits:
		for i := range res {
			change := old[i] ^ full[i]
			res[i] = old[i] ^ (change & byte(r.Uint32()))
		}
	case TornAllButOne:
		copy(res, full)
		var changed []int64
		for i := range res {
			if old[i] != full[i] {
				changed = append(changed, int64(i))
			}
		}
		if len(changed) > 0 {
			i := changed[r.IntN(len(changed))]
			diff := old[i] ^ full[i]
			for {
				bit := byte(1) << r.IntN(8)
				if diff&bit != 0 {
					res[i] ^= bit
					break
				}
			}
		}
	case TornRandom:
		for i := range res {
			if op.Kind == Program {
				res[i] = old[i] & byte(r.Uint32())
			} else {
				res[i] = old[i] | byte(r.Uint32())
			}
		}
	}
	if pk, ok := w.wrapped.(Poker); ok {
		pk.Poke(op.Off, res)
	} else if w.geometry.Kind == hal.NOR {
		// Without Poke, a NOR program of res over old gives res when res only
		// clears bits; an erase first makes any res reachable.
		if op.Kind == Erase {
			if err := w.wrapped.Erase(op.Off, op.Len); err != nil {
				in.harnessErr(fmt.Errorf("torn erase: %w", err))
				return
			}
		}
		if _, err := w.wrapped.WriteAt(res, op.Off); err != nil {
			in.harnessErr(fmt.Errorf("torn %v: %w", op.Kind, err))
			return
		}
	} else {
		in.harnessErr(fmt.Errorf("torn %v on %s: needs a flash with Poke", op.Kind, w.geometry.Name))
		return
	}
	if a.Unstable {
		if u, ok := w.wrapped.(Unstabler); ok {
			u.SetUnstable(op.Off, op.Len)
		} else {
			if in.unstable == nil {
				in.unstable = map[Role][]span{}
			}
			in.unstable[w.role] = append(in.unstable[w.role], span{op.Off, op.Len})
		}
	}
}

// shake imitates unstable reads: bits that are 0 in the stored data read as
// random values in emulated unstable ranges.
func (in *Injector) shake(spans []span, p []byte, off int64) {
	in.mu.Lock()
	r := rand.New(rand.NewPCG(in.schedule.Seed, uint64(in.nextIndex)))
	in.mu.Unlock()
	for _, s := range spans {
		lo, hi := max(s.start, off), min(s.start+s.size, off+int64(len(p)))
		for a := lo; a < hi; a++ {
			p[a-off] |= byte(r.Uint32())
		}
	}
}

// settle ends emulated instability where a program or erase rewrites bytes.
func (in *Injector) settle(role Role, off, n int64) {
	in.mu.Lock()
	defer in.mu.Unlock()
	spans := in.unstable[role]
	if len(spans) == 0 {
		return
	}
	var keep []span
	for _, s := range spans {
		if s.start+s.size <= off || s.start >= off+n {
			keep = append(keep, s)
			continue
		}
		if s.start < off {
			keep = append(keep, span{s.start, off - s.start})
		}
		if s.start+s.size > off+n {
			keep = append(keep, span{off + n, s.start + s.size - off - n})
		}
	}
	in.unstable[role] = keep
}
