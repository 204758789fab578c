package sim

import (
	"math"
	"math/rand/v2"
	"time"
)

// Timing spread (Options.Spread): each array operation — a page program,
// an erase unit's erase, a NAND page read (tR) — takes its own time,
// drawn between the part's typical and maximum figures. Bus transfers and
// command overheads are clocked and do not spread.
//
// The distribution, per operation:
//
//   - with probability 1 − spreadTail (98%), the body: typical ×
//     exp(spreadSigma·Z), Z standard normal — a log-normal whose median is
//     the typical figure and whose 10th and 90th percentiles lie about 6%
//     either side of it;
//   - with probability spreadTail (2%), the tail: typical × (max/typical)^U,
//     U uniform on [0, 1) — log-uniform from typical up to the maximum;
//
// and never more than the maximum. Program and erase on NOR and NAND are
// embedded pulse-and-verify algorithms: most pages and sectors finish
// after the same number of pulses (a small spread around the datasheet's
// typical, which is the median at nominal voltage and 25 °C), and a few
// need more pulses — slow cells, wear — which a datasheet's maximum
// bounds. The tail moves the median up by about 0.1% (the body's
// quantile 0.5/0.98), so a calibration's median recovers the typical
// figure.
//
// The draws come from a generator seeded with Options.Seed (a stream of
// its own, apart from unstable reads'), one draw per operation in the
// order the chip performs them: the same seed and the same operations
// give the same times. Snapshots do not record the generator.
const (
	// spreadSigma is the log-normal body's σ.
	spreadSigma = 0.05
	// spreadTail is the probability of a draw from the tail.
	spreadTail = 0.02
)

// arrayOp is an array operation whose time may spread.
type arrayOp uint8

const (
	opProgram   arrayOp = iota // one page program (tPP / tPROG)
	opUnitErase                // one erase unit's erase (tSE or tBE / tBERS)
	opPageRead                 // one NAND page read into the cache (tR)
)

// spread draws per-operation times (see the constants above).
type spread struct {
	rng *rand.Rand
	// span holds each operation's typical and maximum time.
	span [3][2]time.Duration
}

func newSpread(p Part, em EraseModel, seed uint64) *spread {
	s := &spread{rng: rand.New(rand.NewPCG(seed^0x5bd1e995, seed+0x2545f4914f6cdd1d))}
	s.span[opProgram] = [2]time.Duration{p.Typical.PageProgram, p.Max.PageProgram}
	s.span[opUnitErase] = [2]time.Duration{p.Typical.UnitErase(em), p.Max.UnitErase(em)}
	s.span[opPageRead] = [2]time.Duration{p.Typical.PageRead, p.Max.PageRead}
	return s
}

// draw returns one operation's time.
func (s *spread) draw(op arrayOp) time.Duration {
	typ, maxTime := s.span[op][0], s.span[op][1]
	if maxTime <= typ || typ <= 0 {
		return typ
	}
	var factor float64
	if s.rng.Float64() < spreadTail {
		factor = math.Pow(float64(maxTime)/float64(typ), s.rng.Float64())
	} else {
		factor = math.Exp(spreadSigma * s.rng.NormFloat64())
	}
	return min(time.Duration(float64(typ)*factor), maxTime)
}

// arrayTime is the array time of n operations op: n times the timing
// corner's figure, or n draws with Options.Spread.
func (f *Flash) arrayTime(op arrayOp, n int64) time.Duration {
	if f.spread != nil {
		var d time.Duration
		for range n {
			d += f.spread.draw(op)
		}
		return d
	}
	switch op {
	case opProgram:
		return time.Duration(n) * f.timing.PageProgram
	case opUnitErase:
		return time.Duration(n) * f.unitErase
	}
	return time.Duration(n) * f.timing.PageRead
}
