package bench

import (
	"github.com/cmcsync/cmcsync/sim"

	"github.com/cmcsync/cmcsync/hal"
)

// stock tracks the erased blocks of a set of chips: erased space a
// strategy may have prepared ahead of need (a store that erases a whole
// 64 KiB window and hands its sectors out over later rounds) or inherited
// (a freshly formatted store, the erased tail of a log). A round that
// consumes erased blocks it did not erase itself is charged for them, and
// one that leaves erased blocks that were not is credited, each at one
// erase command of the erase unit (Model.erasesFor): erasing ahead of need
// neither hides nor inflates a round's device time (Row.DeviceSeconds),
// though it shortens the round's latency.
//
// Blocks are re-read only when their sim.Flash.BlockVersion changed since
// the last count; the reads are outside any measured round.
type stock struct {
	chips  []*sim.Flash
	ver    [][]uint64
	erased [][]bool
	buf    []byte
}

func newStock(chips ...*sim.Flash) *stock {
	s := &stock{chips: chips}
	for _, c := range chips {
		n := c.Geometry().Blocks()
		s.ver = append(s.ver, make([]uint64, n))
		e := make([]bool, n)
		for i := range e {
			e[i] = true // version 0: never touched, erased
		}
		s.erased = append(s.erased, e)
	}
	return s
}

// erasedNow returns, for every block of the chips (concatenated in chip
// order), whether it reads as erased now.
func (s *stock) erasedNow() ([]bool, error) {
	var out []bool
	for i, c := range s.chips {
		es := c.Geometry().EraseSize
		if int64(len(s.buf)) != es {
			s.buf = make([]byte, es)
		}
		for b := range s.ver[i] {
			if v := c.BlockVersion(int64(b)); v != s.ver[i][b] {
				if _, err := c.ReadAt(s.buf, int64(b)*es); err != nil {
					return nil, err
				}
				s.erased[i][b] = hal.IsErased(s.buf)
				s.ver[i][b] = v
			}
		}
		out = append(out, s.erased[i]...)
	}
	return out, nil
}

// debt returns the erased blocks a round consumed without erasing them
// (erased before, holding data after, not erased during the round) minus
// those it left erased that were not before. wear is the round's erase
// count per block, in the same order.
func debt(before, after []bool, wear []int64) int64 {
	var d int64
	for i := range before {
		switch {
		case before[i] && !after[i] && wear[i] == 0:
			d++
		case !before[i] && after[i]:
			d--
		}
	}
	return d
}
