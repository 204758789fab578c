package faults

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Pred decides whether a rule applies to an operation. Predicates are pure
// values: Match depends only on the operation, so a schedule replays
// identically. String returns the text that [ParseSchedule] reads back.
type Pred interface {
	Match(op Op) bool
	String() string
	validate() error
}

// Always matches every operation. Text: "always".
type Always struct{}

// At matches the operation whose global index is Index. Text: "(at N)".
type At struct{ Index int64 }

// DevAt matches the operation whose per-device index is Index.
// Text: "(devat N)".
type DevAt struct{ Index int64 }

// Every matches every Period-th operation: global indexes Period-1,
// 2*Period-1, ... Text: "(every N)".
type Every struct{ Period int64 }

// After matches operations with global index >= Index. Text: "(after N)".
type After struct{ Index int64 }

// Before matches operations with global index < Index. Text: "(before N)".
type Before struct{ Index int64 }

// Random matches each operation with probability Probability, decided by a hash of
// Seed and the operation's global index (stateless, so order-independent).
// Text: "(random P SEED)".
type Random struct {
	Probability float64
	Seed        uint64
}

// Addr matches operations whose range overlaps [Lo, Hi). Text: "(addr LO HI)".
type Addr struct{ Lo, Hi int64 }

// OnRole matches operations on one device. Text: "primary" or "backup".
type OnRole struct{ Role Role }

// OnKind matches one kind of operation. Text: "read", "program" or "erase".
type OnKind struct{ Kind Kind }

// And matches when every predicate matches (and no predicates: always).
// Text: "(and P...)".
type And struct{ Preds []Pred }

// Or matches when any predicate matches (no predicates: never).
// Text: "(or P...)".
type Or struct{ Preds []Pred }

// Not matches when Pred does not. Text: "(not P)".
type Not struct{ Pred Pred }

// Match implements Pred.
func (Always) Match(Op) bool { return true }

// Match implements Pred.
func (p At) Match(op Op) bool { return op.Index == p.Index }

// Match implements Pred.
func (p DevAt) Match(op Op) bool { return op.DevIndex == p.Index }

// Match implements Pred.
func (p Every) Match(op Op) bool { return p.Period > 0 && op.Index%p.Period == p.Period-1 }

// Match implements Pred.
func (p After) Match(op Op) bool { return op.Index >= p.Index }

// Match implements Pred.
func (p Before) Match(op Op) bool { return op.Index < p.Index }

// Match implements Pred.
func (p Random) Match(op Op) bool {
	if p.Probability >= 1 {
		return true
	}
	h := splitmix(p.Seed ^ splitmix(uint64(op.Index)))
	return float64(h>>11)/(1<<53) < p.Probability
}

// Match implements Pred.
func (p Addr) Match(op Op) bool {
	end := op.Off + op.Len
	if op.Len == 0 {
		end = op.Off + 1
	}
	return op.Off < p.Hi && end > p.Lo
}

// Match implements Pred.
func (p OnRole) Match(op Op) bool { return op.Role == p.Role }

// Match implements Pred.
func (p OnKind) Match(op Op) bool { return op.Kind == p.Kind }

// Match implements Pred.
func (p And) Match(op Op) bool {
	for _, q := range p.Preds {
		if !q.Match(op) {
			return false
		}
	}
	return true
}

// Match implements Pred.
func (p Or) Match(op Op) bool {
	for _, q := range p.Preds {
		if q.Match(op) {
			return true
		}
	}
	return false
}

// Match implements Pred.
func (p Not) Match(op Op) bool { return !p.Pred.Match(op) }

func (Always) String() string   { return "always" }
func (p At) String() string     { return fmt.Sprintf("(at %d)", p.Index) }
func (p DevAt) String() string  { return fmt.Sprintf("(devat %d)", p.Index) }
func (p Every) String() string  { return fmt.Sprintf("(every %d)", p.Period) }
func (p After) String() string  { return fmt.Sprintf("(after %d)", p.Index) }
func (p Before) String() string { return fmt.Sprintf("(before %d)", p.Index) }
func (p Random) String() string {
	return fmt.Sprintf("(random %s %d)", strconv.FormatFloat(p.Probability, 'g', -1, 64), p.Seed)
}
func (p Addr) String() string   { return fmt.Sprintf("(addr %#x %#x)", p.Lo, p.Hi) }
func (p OnRole) String() string { return p.Role.String() }
func (p OnKind) String() string { return p.Kind.String() }
func (p And) String() string    { return listString("and", p.Preds) }
func (p Or) String() string     { return listString("or", p.Preds) }
func (p Not) String() string    { return "(not " + p.Pred.String() + ")" }

func listString(head string, ps []Pred) string {
	var b strings.Builder
	b.WriteString("(" + head)
	for _, p := range ps {
		b.WriteByte(' ')
		b.WriteString(p.String())
	}
	b.WriteByte(')')
	return b.String()
}

func (Always) validate() error { return nil }
func (p At) validate() error   { return nonNegative("at", p.Index) }
func (p DevAt) validate() error {
	return nonNegative("devat", p.Index)
}
func (p Every) validate() error {
	if p.Period < 1 {
		return fmt.Errorf("(every %d): the period must be at least 1", p.Period)
	}
	return nil
}
func (p After) validate() error  { return nonNegative("after", p.Index) }
func (p Before) validate() error { return nonNegative("before", p.Index) }
func (p Random) validate() error {
	if math.IsNaN(p.Probability) || p.Probability < 0 || p.Probability > 1 {
		return fmt.Errorf("(random %v ...): the probability must be in [0, 1]", p.Probability)
	}
	return nil
}
func (p Addr) validate() error {
	if p.Lo < 0 || p.Hi <= p.Lo {
		return fmt.Errorf("(addr %#x %#x): want 0 <= lo < hi", p.Lo, p.Hi)
	}
	return nil
}
func (p OnRole) validate() error {
	if p.Role != Primary && p.Role != Backup {
		return fmt.Errorf("unknown role %v", p.Role)
	}
	return nil
}
func (p OnKind) validate() error {
	if p.Kind < Read || p.Kind > Erase {
		return fmt.Errorf("unknown operation kind %v", p.Kind)
	}
	return nil
}
func (p And) validate() error { return validateAll(p.Preds) }
func (p Or) validate() error  { return validateAll(p.Preds) }
func (p Not) validate() error {
	if p.Pred == nil {
		return fmt.Errorf("(not) needs a predicate")
	}
	return p.Pred.validate()
}

func validateAll(ps []Pred) error {
	for _, p := range ps {
		if p == nil {
			return fmt.Errorf("nil predicate in a list")
		}
		if err := p.validate(); err != nil {
			return err
		}
	}
	return nil
}

func nonNegative(name string, n int64) error {
	if n < 0 {
		return fmt.Errorf("(%s %d): the operation index must be >= 0", name, n)
	}
	return nil
}

// splitmix is the SplitMix64 finaliser: a cheap, well-mixed hash.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
