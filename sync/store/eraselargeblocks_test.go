package store

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
)

// TestEraseCheckedErasesAgainWholeBlocks: an erase that reports success
// without erasing is done again on the whole erase block, whatever its
// size: on the 4 KiB NOR blocks and on the 128 KiB NAND blocks alike, one
// such erase is followed by a second that erases the block, and erases
// that never take end in ErrVerify after three. eraseChecked reads back
// in pieces of up to 64 KiB; on a chip whose erase block is larger than
// that, a piece is not a block, and erasing the piece again is refused by
// the device (hal.ErrUnaligned) instead.
//
// This test FAILS on the source as of 4c357ac for the NAND chip (a
// defect found while judging the mutant verify.go:67:72, reported to the
// lead, not fixed here): "erase nand [0x1660000+0x10000]: unaligned".
func TestEraseCheckedErasesAgainWholeBlocks(t *testing.T) {
	nor := func(t *testing.T) (*sim.Flash, *Store) { return newStore(t) }
	nand := func(t *testing.T) (*sim.Flash, *Store) {
		ns := newNANDStore(t)
		return ns.f, ns.open(t, ns.f, Options{})
	}
	for _, chip := range []struct {
		name  string
		store func(*testing.T) (*sim.Flash, *Store)
		e     int64
	}{
		{"NOR 4 KiB blocks", nor, 4 << 10},
		{"NAND 128 KiB blocks", nand, 128 << 10},
	} {
		for _, tc := range []struct {
			sched  string
			erases int
			want   error // nil: the block ends erased
		}{
			{"(on (at 0) (silent-erase unchanged))", 2, nil},
			{"(on (at 0) (silent-erase partial))", 2, nil},
			{"(on erase (silent-erase unchanged))", 3, ErrVerify},
		} {
			t.Run(fmt.Sprintf("%s %s", chip.name, tc.sched), func(t *testing.T) {
				f, s := chip.store(t)
				e := f.Geometry().EraseSize
				require.Equal(t, chip.e, e)
				off := s.dataOff(3)
				data := randomBytes(3, int(e))
				f.Poke(off, data)
				erases := 0
				in := faults.NewInjector(mustSchedule(t, tc.sched), faults.Options{Trace: func(op faults.Op) {
					if op.Kind == faults.Erase {
						erases++
					}
				}})
				s.flash = in.Wrap(f, faults.Backup)
				err := s.eraseChecked(off, e)
				got := make([]byte, e)
				_, rerr := f.ReadAt(got, off)
				require.NoError(t, rerr)
				if tc.want == nil {
					require.NoError(t, err)
					require.True(t, hal.IsErased(got))
				} else {
					require.ErrorIs(t, err, tc.want)
				}
				require.Equal(t, tc.erases, erases, "erases")
			})
		}
	}
}
