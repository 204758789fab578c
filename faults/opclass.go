package faults

import "math"

// opClass is a conservative description of the operations a predicate
// can match: those of one of roles, of one of kinds, with a global index
// in [lo, hi] (both ends included). Every operation the predicate matches is in its class (the
// converse need not hold), so an operation outside the class of every rule
// of a schedule needs no rule's Match: the injector's bulk path for the
// tens of thousands of page programs and reads that no rule can strike.
type opClass struct {
	roles, kinds uint64 // bit kindBit(v) set for each value admitted
	lo, hi       int64
}

// anyOp is the class of every operation.
var anyOp = opClass{roles: math.MaxUint64, kinds: math.MaxUint64, lo: math.MinInt64, hi: math.MaxInt64}

// valueBit is the bit of a role or kind value in an opClass mask; values
// from 63 on share bit 63 (a class admitting one of them admits all).
func valueBit(v uint8) uint64 { return 1 << min(v, 63) }

// classOf returns the class of the operations p can match. Predicates it
// does not look into (Always, DevAt, Every, Random, Addr, Not) get anyOp.
func classOf(p Pred) opClass {
	c := anyOp
	switch p := p.(type) {
	case At:
		c.lo, c.hi = p.Index, p.Index
	case After:
		c.lo = p.Index
	case Before:
		if p.Index == math.MinInt64 {
			return opClass{} // no index is below
		}
		c.hi = p.Index - 1
	case OnRole:
		c.roles = valueBit(uint8(p.Role))
	case OnKind:
		c.kinds = valueBit(uint8(p.Kind))
	case And:
		for _, q := range p.Preds {
			c = c.and(classOf(q))
		}
	case Or:
		u := opClass{lo: math.MaxInt64, hi: math.MinInt64}
		for _, q := range p.Preds {
			u = u.or(classOf(q))
		}
		c = u
	}
	return c
}

// and is the class of operations in both c and d.
func (c opClass) and(d opClass) opClass {
	return opClass{roles: c.roles & d.roles, kinds: c.kinds & d.kinds, lo: max(c.lo, d.lo), hi: min(c.hi, d.hi)}
}

// or is a class holding both c and d (their hull: it may admit more).
func (c opClass) or(d opClass) opClass {
	if d.empty() {
		return c
	}
	if c.empty() {
		return d
	}
	return opClass{roles: c.roles | d.roles, kinds: c.kinds | d.kinds, lo: min(c.lo, d.lo), hi: max(c.hi, d.hi)}
}

// empty reports a class no operation is in.
func (c opClass) empty() bool { return c.roles == 0 || c.kinds == 0 || c.lo > c.hi }

// admits reports whether op is in the class.
func (c opClass) admits(op Op) bool {
	return c.roles&valueBit(uint8(op.Role)) != 0 && c.kinds&valueBit(uint8(op.Kind)) != 0 && op.Index >= c.lo && op.Index <= c.hi
}
