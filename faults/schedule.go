package faults

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a complete fault scenario: a seed for every random choice an
// action makes, and rules applied to each operation in order.
//
// The zero Schedule injects nothing. String prints one line that
// [ParseSchedule] reads back to an equal value (require.Equal-equal).
type Schedule struct {
	Seed  uint64
	Rules []Rule
}

// Rule pairs a predicate with an action. Text: "(on PRED ACTION)".
type Rule struct {
	When Pred
	Do   Action
}

// String returns "(on PRED ACTION)".
func (r Rule) String() string { return "(on " + r.When.String() + " " + r.Do.String() + ")" }

// String prints the schedule on one line, e.g.
// "(seed 7) (on (at 41) (torn bits))"; the empty schedule prints "none".
func (s Schedule) String() string {
	var parts []string
	if s.Seed != 0 {
		parts = append(parts, fmt.Sprintf("(seed %d)", s.Seed))
	}
	for _, r := range s.Rules {
		parts = append(parts, r.String())
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// Validate reports the first malformed part of the schedule.
func (s Schedule) Validate() error {
	for i, r := range s.Rules {
		if r.When == nil || r.Do == nil {
			return fmt.Errorf("rule %d: needs a predicate and an action", i+1)
		}
		if err := r.When.validate(); err != nil {
			return fmt.Errorf("rule %d: %w", i+1, err)
		}
		if err := r.Do.validate(); err != nil {
			return fmt.Errorf("rule %d: %w", i+1, err)
		}
	}
	return nil
}

// CutAt returns the schedule of one power cut at global operation n.
func CutAt(n int64) Schedule { return Schedule{Rules: []Rule{{When: At{n}, Do: Cut{}}}} }

// TornAt returns the schedule of one torn operation at global operation n.
func TornAt(n int64, mode TornMode, unstable bool, seed uint64) Schedule {
	return Schedule{Seed: seed, Rules: []Rule{{When: At{n}, Do: Torn{Mode: mode, Unstable: unstable}}}}
}

// ErrSyntax is wrapped by every error of [ParseSchedule].
var ErrSyntax = errors.New("bad fault schedule")

// maxDepth bounds predicate nesting in parsed text.
const maxDepth = 64

// ParseSchedule reads the text [Schedule.String] prints. Forms:
//
//	none                       the empty schedule (so is the empty string)
//	(seed N)                   the seed (decimal)
//	(on PRED ACTION)           a rule
//
// PRED is always | primary | backup | read | program | erase | (at N) |
// (devat N) | (every N) | (after N) | (before N) | (random P SEED) |
// (addr LO HI) | (and PRED...) | (or PRED...) | (not PRED).
// ACTION is cut | bad | wearout | weak | cancel | (torn bits|allbutone|random
// [unstable]) | (silent-erase unchanged|partial) | (flip ROLE LO HI N) |
// (scribble ROLE LO HI) | (fade ROLE LO HI) | (copy ROLE ROLE) |
// (misdirect ROLE FROM TO LEN) | (delay DURATION) | (fail media|timeout). Numbers are decimal or 0x-hex.
//
// Errors wrap [ErrSyntax] and say what was expected; the schedule is also
// validated (ranges, probabilities).
func ParseSchedule(text string) (Schedule, error) {
	var s Schedule
	p := &parser{tokens: tokenize(text)}
	if len(p.tokens) == 1 && p.tokens[0] == "none" {
		return s, nil
	}
	seenSeed := false
	for !p.done() {
		if err := p.expect("("); err != nil {
			return Schedule{}, err
		}
		head, err := p.atom()
		if err != nil {
			return Schedule{}, err
		}
		switch head {
		case "seed":
			if seenSeed || len(s.Rules) > 0 {
				return Schedule{}, p.errorf("(seed N) must come once, first")
			}
			seenSeed = true
			if s.Seed, err = p.uint(); err != nil {
				return Schedule{}, err
			}
		case "on":
			var r Rule
			if r.When, err = p.pred(0); err != nil {
				return Schedule{}, err
			}
			if r.Do, err = p.action(); err != nil {
				return Schedule{}, err
			}
			s.Rules = append(s.Rules, r)
		default:
			return Schedule{}, p.errorf("unknown form %q (want seed or on)", head)
		}
		if err := p.expect(")"); err != nil {
			return Schedule{}, err
		}
	}
	if err := s.Validate(); err != nil {
		return Schedule{}, fmt.Errorf("%w: %w", ErrSyntax, err)
	}
	return s, nil
}

// ParsePred reads one predicate as [Pred.String] prints it.
func ParsePred(text string) (Pred, error) {
	p := &parser{tokens: tokenize(text)}
	q, err := p.pred(0)
	if err != nil {
		return nil, err
	}
	if !p.done() {
		return nil, p.errorf("unexpected %q after the predicate", p.tokens[p.pos])
	}
	if err := q.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSyntax, err)
	}
	return q, nil
}

func tokenize(s string) []string {
	var toks []string
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			toks = append(toks, s[i:i+1])
			i++
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r()", rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks
}

type parser struct {
	tokens []string
	pos    int
}

// predWords and actionWords list what a schedule may say where an
// unknown word was found (the package documentation has the grammar).
const (
	predWords   = "(want always, primary, backup, read, program, erase or (at|devat|every|after|before|random|addr|and|or|not ...))"
	actionWords = "(want cut, bad, wearout, weak, cancel or (torn|flip|scribble|fade|copy|misdirect|silent-erase|delay|fail ...))"
)

func (p *parser) done() bool { return p.pos >= len(p.tokens) }

func (p *parser) errorf(format string, a ...any) error {
	return fmt.Errorf("%w: token %d: %s", ErrSyntax, p.pos+1, fmt.Sprintf(format, a...))
}

func (p *parser) next() (string, error) {
	if p.done() {
		return "", p.errorf("unexpected end of text (a parenthesis left open?)")
	}
	t := p.tokens[p.pos]
	p.pos++
	return t, nil
}

func (p *parser) peek() string {
	if p.done() {
		return ""
	}
	return p.tokens[p.pos]
}

func (p *parser) expect(tok string) error {
	t, err := p.next()
	if err != nil {
		return err
	}
	if t != tok {
		return p.errorf("want %q, got %q", tok, t)
	}
	return nil
}

func (p *parser) atom() (string, error) {
	t, err := p.next()
	if err != nil {
		return "", err
	}
	if t == "(" || t == ")" {
		return "", p.errorf("want a word, got %q", t)
	}
	return t, nil
}

// word reads a word and converts it with conv. A word conv refuses is a
// syntax error saying "want WANT, got WORD", or, with want "", conv's own
// error.
func word[T any](p *parser, conv func(string) (T, error), want string) (T, error) {
	var zero T
	t, err := p.atom()
	if err != nil {
		return zero, err
	}
	v, err := conv(t)
	switch {
	case err == nil:
		return v, nil
	case want == "":
		return zero, p.errorf("%v", err)
	default:
		return zero, p.errorf("want %s, got %q", want, t)
	}
}

func (p *parser) int() (int64, error) {
	return word(p, func(t string) (int64, error) { return strconv.ParseInt(t, 0, 64) }, "an integer")
}

func (p *parser) uint() (uint64, error) {
	return word(p, func(t string) (uint64, error) { return strconv.ParseUint(t, 0, 64) }, "an unsigned integer")
}

func (p *parser) role() (Role, error) {
	return word(p, ParseRole, "")
}

// span reads two integers, the low and high ends of a range.
func (p *parser) span() (lo, hi int64, err error) {
	if lo, err = p.int(); err != nil {
		return 0, 0, err
	}
	if hi, err = p.int(); err != nil {
		return 0, 0, err
	}
	return lo, hi, nil
}

func (p *parser) pred(depth int) (Pred, error) {
	if depth > maxDepth {
		return nil, p.errorf("predicates nested deeper than %d", maxDepth)
	}
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	switch t {
	case "always":
		return Always{}, nil
	case "primary":
		return OnRole{Primary}, nil
	case "backup":
		return OnRole{Backup}, nil
	case "read":
		return OnKind{Read}, nil
	case "program":
		return OnKind{Program}, nil
	case "erase":
		return OnKind{Erase}, nil
	case "(":
	default:
		return nil, p.errorf("unknown predicate %q %s", t, predWords)
	}
	head, err := p.atom()
	if err != nil {
		return nil, err
	}
	var q Pred
	switch head {
	case "at", "devat", "every", "after", "before":
		n, err := p.int()
		if err != nil {
			return nil, err
		}
		q = map[string]Pred{"at": At{n}, "devat": DevAt{n}, "every": Every{n}, "after": After{n}, "before": Before{n}}[head]
	case "random":
		prob, err := word(p, func(t string) (float64, error) { return strconv.ParseFloat(t, 64) }, "a probability")
		if err != nil {
			return nil, err
		}
		seed, err := p.uint()
		if err != nil {
			return nil, err
		}
		q = Random{Probability: prob, Seed: seed}
	case "addr":
		lo, hi, err := p.span()
		if err != nil {
			return nil, err
		}
		q = Addr{Lo: lo, Hi: hi}
	case "and", "or":
		var ps []Pred
		for p.peek() != ")" && !p.done() {
			c, err := p.pred(depth + 1)
			if err != nil {
				return nil, err
			}
			ps = append(ps, c)
		}
		if head == "and" {
			q = And{ps}
		} else {
			q = Or{ps}
		}
	case "not":
		c, err := p.pred(depth + 1)
		if err != nil {
			return nil, err
		}
		q = Not{c}
	default:
		return nil, p.errorf("unknown predicate (%s ...) %s", head, predWords)
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	return q, nil
}

func (p *parser) action() (Action, error) {
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	switch t {
	case "cut":
		return Cut{}, nil
	case "bad":
		return GoBad{}, nil
	case "wearout":
		return WearOut{}, nil
	case "weak":
		return Weak{}, nil
	case "cancel":
		return Cancel{}, nil
	case "(":
	default:
		return nil, p.errorf("unknown action %q %s", t, actionWords)
	}
	head, err := p.atom()
	if err != nil {
		return nil, err
	}
	var a Action
	switch head {
	case "torn":
		m, err := p.atom()
		if err != nil {
			return nil, err
		}
		tn := Torn{}
		for mode, name := range tornNames {
			if name == m {
				tn.Mode = mode
			}
		}
		if tn.Mode == 0 {
			return nil, p.errorf("unknown torn mode %q (want bits, allbutone or random)", m)
		}
		if p.peek() == "unstable" {
			p.pos++
			tn.Unstable = true
		}
		a = tn
	case "fade", "flip", "scribble":
		r, err := p.role()
		if err != nil {
			return nil, err
		}
		lo, hi, err := p.span()
		if err != nil {
			return nil, err
		}
		switch head {
		case "fade":
			a = Fade{Role: r, Lo: lo, Hi: hi}
		case "scribble":
			a = Scribble{Role: r, Lo: lo, Hi: hi}
		default:
			n, err := p.int()
			if err != nil {
				return nil, err
			}
			if n < 0 || n > 1<<30 {
				return nil, p.errorf("flip: bit count %d out of range", n)
			}
			a = Flip{Role: r, Lo: lo, Hi: hi, Bits: int(n)}
		}
	case "copy":
		from, err := p.role()
		if err != nil {
			return nil, err
		}
		to, err := p.role()
		if err != nil {
			return nil, err
		}
		a = Copy{From: from, To: to}
	case "misdirect":
		r, err := p.role()
		if err != nil {
			return nil, err
		}
		var n [3]int64
		for i := range n {
			if n[i], err = p.int(); err != nil {
				return nil, err
			}
		}
		a = Misdirect{Role: r, From: n[0], To: n[1], Len: n[2]}
	case "silent-erase":
		m, err := p.atom()
		if err != nil {
			return nil, err
		}
		switch m {
		case "unchanged":
			a = SilentErase{}
		case "partial":
			a = SilentErase{Partial: true}
		default:
			return nil, p.errorf("unknown silent erase %q (want unchanged or partial)", m)
		}
	case "delay":
		d, err := word(p, time.ParseDuration, "a duration such as 150ms")
		if err != nil {
			return nil, err
		}
		a = Delay{d}
	case "fail":
		k, err := p.atom()
		if err != nil {
			return nil, err
		}
		switch k {
		case "media":
			a = Fail{FailMedia}
		case "timeout":
			a = Fail{FailTimeout}
		default:
			return nil, p.errorf("unknown failure %q (want media or timeout)", k)
		}
	default:
		return nil, p.errorf("unknown action (%s ...) %s", head, actionWords)
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	return a, nil
}
