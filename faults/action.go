package faults

import (
	"fmt"
	"time"
)

// Action is what a rule does to a matched operation. Actions are plain
// values; String returns the text [ParseSchedule] reads back.
//
// Some actions act beside the operation and let it run ([Flip], [Scribble],
// [Copy], [Misdirect], [Delay], [Cancel], [Fade]); the others decide its outcome ([Cut], [Torn], [Fail], [GoBad],
// [WearOut], [SilentErase], [Weak]). When several rules match one operation, every side action runs
// (in rule order) and then the first outcome action decides.
type Action interface {
	String() string
	validate() error
	outcome() bool
}

// Cut is a power loss just before the operation: it does not happen, and no
// later operation on any wrapped device does either. Text: "cut".
type Cut struct{}

// TornMode says how much of a torn operation reached the cells.
type TornMode uint8

// Torn modes.
const (
	// TornBits: a seeded random subset of the bits the operation would
	// change did change (a program cleared some of its bits; an erase set
	// some bits back to 1).
	TornBits TornMode = iota + 1
	// TornAllButOne: every bit changed but one — a range that almost reads
	// as fully programmed or erased.
	TornAllButOne
	// TornRandom: the range holds random bytes (a program: old AND random;
	// an erase: old OR random).
	TornRandom
)

var tornNames = map[TornMode]string{TornBits: "bits", TornAllButOne: "allbutone", TornRandom: "random"}

// String returns "bits", "allbutone" or "random".
func (m TornMode) String() string {
	if s, ok := tornNames[m]; ok {
		return s
	}
	return fmt.Sprintf("torn(%d)", uint8(m))
}

// Torn is a power loss during the operation: a program or erase is left
// partly done per Mode, then power is lost as with [Cut]. With Unstable the
// torn range also reads differently on each read until it is next programmed
// or erased. A torn read is a plain cut. Text: "(torn MODE [unstable])".
type Torn struct {
	Mode     TornMode
	Unstable bool
}

// Flip flips Bits distinct seeded random bits (all of them if the range has
// fewer) in [Lo, Hi) of the device Role, clipped to the device, just before
// the operation, which then runs (primary corruption during a round). It
// needs a device with Poke. Text: "(flip ROLE LO HI N)".
type Flip struct {
	Role   Role
	Lo, Hi int64
	Bits   int
}

// Scribble overwrites [Lo, Hi) of the device Role (clipped to the device)
// with seeded random bytes just before the operation, which then runs. It
// needs a device with Poke. Text: "(scribble ROLE LO HI)".
type Scribble struct {
	Role   Role
	Lo, Hi int64
}

// Copy overwrites the whole device To with the contents of device From
// (both clipped to the smaller), just before the operation, which then
// runs: a chip re-imaged from a dump of the other one. It needs a device
// with Poke. Text: "(copy FROM TO)".
type Copy struct{ From, To Role }

// Misdirect writes the Len bytes the device Role holds at From over the Len
// bytes at To as well (both clipped to the device), just before the
// operation, which then runs: a write that landed at a wrong address too
// (a misdirected write), so that a valid record or block can appear where
// the writer never put it. It needs a device with Poke. Text: "(misdirect
// ROLE FROM TO LEN)".
type Misdirect struct {
	Role     Role
	From, To int64
	Len      int64
}

// Delay advances the virtual clock by Duration before the operation (a
// slow response). Text: "(delay D)", D as Go formats a time.Duration.
type Delay struct{ Duration time.Duration }

// FailKind is the error a failed operation reports.
type FailKind uint8

// Failure kinds.
const (
	FailMedia   FailKind = iota + 1 // hal.ErrMedia: read ECC error, program/erase status failure
	FailTimeout                     // hal.ErrTimeout: the device did not answer
)

// String returns "media" or "timeout".
func (k FailKind) String() string {
	switch k {
	case FailMedia:
		return "media"
	case FailTimeout:
		return "timeout"
	}
	return fmt.Sprintf("fail(%d)", uint8(k))
}

// Fail makes the operation fail with the error Kind without touching the
// cells. Text: "(fail KIND)".
type Fail struct{ Kind FailKind }

// GoBad makes the operation's erase block go bad: this and every later
// operation on it fail with hal.ErrBadBlock, and IsBad reports it.
// Text: "bad".
type GoBad struct{}

// WearOut makes the operation's erase block wear out: this (if an erase) and
// every later erase of it fail with hal.ErrWornOut and leave it unchanged.
// Reads and programs still work. Text: "wearout".
type WearOut struct{}

// SilentErase is an erase that reports success but did not erase: the
// erase block is left unchanged, or, with Partial, partly erased (a seeded
// random subset of its 0 bits went to 1), as a chip whose erase-status
// check a driver skipped or that lied would leave it. An operation other
// than an erase runs as usual. Text: "(silent-erase unchanged)" or
// "(silent-erase partial)".
type SilentErase struct{ Partial bool }

// Weak is a weak program: the program completes and its bytes read right
// the first time they are read through the injector, then differently on
// each read (the cells sit between states) until they are programmed or
// erased again. It needs a device with SetUnstable (else the injector
// imitates it). An operation other than a program runs as usual. Text:
// "weak".
type Weak struct{}

func (Cut) String() string { return "cut" }
func (a Torn) String() string {
	if a.Unstable {
		return "(torn " + a.Mode.String() + " unstable)"
	}
	return "(torn " + a.Mode.String() + ")"
}
func (a Flip) String() string {
	return fmt.Sprintf("(flip %v %#x %#x %d)", a.Role, a.Lo, a.Hi, a.Bits)
}
func (a Scribble) String() string { return fmt.Sprintf("(scribble %v %#x %#x)", a.Role, a.Lo, a.Hi) }
func (a Copy) String() string     { return fmt.Sprintf("(copy %v %v)", a.From, a.To) }
func (a Misdirect) String() string {
	return fmt.Sprintf("(misdirect %v %#x %#x %d)", a.Role, a.From, a.To, a.Len)
}
func (a Delay) String() string { return "(delay " + a.Duration.String() + ")" }
func (a Fail) String() string  { return "(fail " + a.Kind.String() + ")" }
func (GoBad) String() string   { return "bad" }
func (WearOut) String() string { return "wearout" }
func (a SilentErase) String() string {
	if a.Partial {
		return "(silent-erase partial)"
	}
	return "(silent-erase unchanged)"
}
func (Weak) String() string { return "weak" }

func (Cut) outcome() bool       { return true }
func (Torn) outcome() bool      { return true }
func (Flip) outcome() bool      { return false }
func (Scribble) outcome() bool  { return false }
func (Copy) outcome() bool      { return false }
func (Misdirect) outcome() bool { return false }
func (Delay) outcome() bool     { return false }
func (Fail) outcome() bool      { return true }
func (GoBad) outcome() bool     { return true }
func (WearOut) outcome() bool   { return true }

func (SilentErase) outcome() bool { return true }
func (Weak) outcome() bool        { return true }

// maxRegion bounds corruption ranges so that a parsed schedule cannot ask
// for absurd allocations.
const maxRegion = 1 << 32

func (Cut) validate() error { return nil }
func (a Torn) validate() error {
	if _, ok := tornNames[a.Mode]; !ok {
		return fmt.Errorf("unknown torn mode %v (want bits, allbutone or random)", a.Mode)
	}
	return nil
}
func (a Flip) validate() error {
	if err := validRegion(a.Role, a.Lo, a.Hi); err != nil {
		return fmt.Errorf("flip: %w", err)
	}
	if a.Bits < 1 || a.Bits > 1<<20 {
		return fmt.Errorf("flip: %d bits: want 1 to %d", a.Bits, 1<<20)
	}
	return nil
}
func (a Scribble) validate() error {
	if err := validRegion(a.Role, a.Lo, a.Hi); err != nil {
		return fmt.Errorf("scribble: %w", err)
	}
	return nil
}
func (a Copy) validate() error {
	for _, r := range []Role{a.From, a.To} {
		if r != Primary && r != Backup {
			return fmt.Errorf("copy: unknown role %v", r)
		}
	}
	if a.From == a.To {
		return fmt.Errorf("copy: from and to are both %v", a.From)
	}
	return nil
}
func (a Misdirect) validate() error {
	if err := validRegion(a.Role, a.From, a.From+a.Len); err != nil {
		return fmt.Errorf("misdirect: from: %w", err)
	}
	if err := validRegion(a.Role, a.To, a.To+a.Len); err != nil {
		return fmt.Errorf("misdirect: to: %w", err)
	}
	return nil
}
func (a Delay) validate() error {
	if a.Duration < 0 || a.Duration > 1000*time.Hour {
		return fmt.Errorf("delay %v: want 0 to 1000h", a.Duration)
	}
	return nil
}
func (a Fail) validate() error {
	if a.Kind != FailMedia && a.Kind != FailTimeout {
		return fmt.Errorf("unknown failure %v (want media or timeout)", a.Kind)
	}
	return nil
}
func (GoBad) validate() error   { return nil }
func (WearOut) validate() error { return nil }

func (SilentErase) validate() error { return nil }
func (Weak) validate() error        { return nil }

func validRegion(r Role, lo, hi int64) error {
	if r != Primary && r != Backup {
		return fmt.Errorf("unknown role %v", r)
	}
	if lo < 0 || hi <= lo || hi-lo > maxRegion {
		return fmt.Errorf("range [%#x, %#x): want 0 <= lo < hi, at most 4 GiB", lo, hi)
	}
	return nil
}
