package faults

import (
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
)

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
	if !in.store(w, op, res) {
		return
	}
	if a.Unstable {
		in.makeUnstable(w, op.Off, op.Len)
	}
}

// silentErase leaves an erase that reports success undone (a.Partial
// false) or done only in part: a seeded random subset of the bits that
// were 0 went to 1.
func (in *Injector) silentErase(w *Flash, op Op, a SilentErase) {
	if !a.Partial {
		return
	}
	res := make([]byte, op.Len)
	if _, err := w.wrapped.ReadAt(res, op.Off); err != nil {
		in.harnessErr(fmt.Errorf("silent erase: read: %w", err))
		return
	}
	r := in.rng(op, 0x51e7)
	for i := range res {
		res[i] |= byte(r.Uint32())
	}
	es := w.geometry.EraseSize
	if bl, ok := ability[blockLoader](w.wrapped); ok && w.geometry.Kind == hal.NAND && es > 0 && op.Off%es == 0 && op.Len%es == 0 {
		// The chip was given the erase: a page that reads erased from
		// the last one that does not on takes a program again (Poke
		// would count every page of the block programmed, so a block
		// the partial erase left reading erased would refuse the program
		// a writer makes after reading it back erased).
		for o := int64(0); o < op.Len; o += es {
			bl.LoadBlock(op.Off+o, res[o:o+es])
		}
		return
	}
	in.store(w, op, res)
}

// blockLoader is implemented by simulated flashes that can be given one
// erase block's bytes as a chip erased and then programmed would hold
// them (sim.Flash.LoadBlock: on NAND, the pages after the last one not
// all 0xFF are programmable).
type blockLoader interface {
	LoadBlock(off int64, p []byte)
}

// store puts res in op's range as raw bytes: with Poke if the device has
// it, else, on NOR, by programming it (after an erase for an erase
// operation). It reports false (and a harness error) if it cannot.
func (in *Injector) store(w *Flash, op Op, res []byte) bool {
	if pk, ok := ability[Poker](w.wrapped); ok {
		pk.Poke(op.Off, res)
		return true
	}
	if w.geometry.Kind != hal.NOR {
		in.harnessErr(fmt.Errorf("%v on %s: needs a flash with Poke", op.Kind, w.geometry.Name))
		return false
	}
	// Without Poke, a NOR program of res over old gives res when res only
	// clears bits; an erase first makes any res reachable.
	if op.Kind == Erase {
		if err := w.wrapped.Erase(op.Off, op.Len); err != nil {
			in.harnessErr(fmt.Errorf("torn erase: %w", err))
			return false
		}
	}
	if _, err := w.wrapped.WriteAt(res, op.Off); err != nil {
		in.harnessErr(fmt.Errorf("torn %v: %w", op.Kind, err))
		return false
	}
	return true
}
