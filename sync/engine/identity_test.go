package engine

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
)

// copyRange copies [off, off+n) of from onto to (erase, then program).
func copyRange(t *testing.T, from, to *sim.Flash, off, n int64) {
	t.Helper()
	b := readRange(t, from, off, n)
	require.NoError(t, to.Erase(off, n))
	_, err := to.WriteAt(b, off)
	require.NoError(t, err)
}

// TestOpenChecksIdentityByRole: the chip given as the primary must carry
// chip A's store and the one given as the backup chip B's, of one pair;
// anything else is refused before a byte is written, with an error naming
// what was found.
func TestOpenChecksIdentityByRole(t *testing.T) {
	for _, tc := range []struct {
		name string
		// damage changes p's chips and returns the chips to open, in order.
		damage func(t *testing.T, p *pair) (chipA, chipB *sim.Flash)
		want   error
		says   []string
	}{
		{"backup re-imaged from a dump of the primary", func(t *testing.T, p *pair) (*sim.Flash, *sim.Flash) {
			copyRange(t, p.chipA, p.chipB, 0, p.chipA.Geometry().Size)
			return p.chipA, p.chipB
		}, ErrWrongChip, []string{"flash1", "carries chip A's store", "dump of the primary", "erases the copy"}},
		{"backup carrying the primary's superblock", func(t *testing.T, p *pair) (*sim.Flash, *sim.Flash) {
			e := p.chipA.Geometry().EraseSize
			copyRange(t, p.chipA, p.chipB, p.opts.Layout.StoreOff, 2*e)
			return p.chipA, p.chipB
		}, ErrWrongChip, []string{"flash1", "carries chip A's store"}},
		{"primary re-imaged from a dump of the backup", func(t *testing.T, p *pair) (*sim.Flash, *sim.Flash) {
			copyRange(t, p.chipB, p.chipA, 0, p.chipA.Geometry().Size)
			return p.chipA, p.chipB
		}, ErrWrongChip, []string{"flash0", "carries chip B's store"}},
		{"chips given the wrong way round", func(t *testing.T, p *pair) (*sim.Flash, *sim.Flash) {
			return p.chipB, p.chipA
		}, ErrWrongChip, []string{"wrong way round", "give flash0 as the primary and flash1 as the backup"}},
		{"a superblock of another pair in both copies on the backup", func(t *testing.T, p *pair) (*sim.Flash, *sim.Flash) {
			// Another pair, formatted an hour later (Format takes the pair
			// id from the clock).
			later := sim.NewClock(p.clock.Now().Add(time.Hour))
			var other [2]*sim.Flash
			for i := range other {
				f, err := sim.New(sim.Options{Part: p.chipA.Part(), Size: p.chipA.Geometry().Size, Clock: later})
				require.NoError(t, err)
				other[i] = f
			}
			opts := p.opts
			opts.Clock = later
			require.NoError(t, Format(other[0], other[1], opts))
			e := p.chipA.Geometry().EraseSize
			copyRange(t, other[1], p.chipB, p.opts.Layout.StoreOff, 2*e)
			return p.chipA, p.chipB
		}, ErrForeignPair, []string{"flash0", "flash1", "not formatted together"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := syncedPairAfter(t, DefaultConfig(), 0)
			chipA, chipB := tc.damage(t, p)
			before := [2]hal.Stats{chipA.Stats(), chipB.Stats()}
			_, err := Open(context.Background(), chipA, chipB, p.opts)
			require.ErrorIs(t, err, tc.want)
			for _, s := range tc.says {
				require.ErrorContains(t, err, s)
			}
			require.NotContains(t, err.Error(), "%!", "formatted whole")
			for i, f := range []*sim.Flash{chipA, chipB} {
				d := f.Stats().Sub(before[i])
				require.Zero(t, d.Programs+d.Erases, "nothing written to %s", f.Geometry().Name)
			}
		})
	}
	// The pair as formatted opens, whichever chip is active.
	p := syncedPairAfter(t, DefaultConfig(), 0)
	_, err := Open(context.Background(), p.chipA, p.chipB, p.opts)
	require.NoError(t, err)
}
