package engine

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
	"github.com/cmcsync/cmcsync/sync/store"
)

// otherPairChipB returns chip B of another pair (formatted an hour later,
// so with another pair id) after one committed round.
func otherPairChipB(t *testing.T) *sim.Flash {
	t.Helper()
	clock := simtest.NewClock()
	clock.Advance(time.Hour)
	a, b := simtest.Pair(t, "mx66l1g45g", sim.Options{Size: 8 << 20, Clock: clock, Seed: 2})
	o := newPairOf(t, a, b, clock, 1<<20, DefaultConfig(), 11)
	_, err := o.open(t).Round(context.Background())
	require.NoError(t, err)
	return o.chipB
}

func pairID(t *testing.T, p *pair, f *sim.Flash) uint64 {
	t.Helper()
	s, err := store.Open(f, p.opts.Layout.StoreOff, p.opts.Layout.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	return s.Identity().PairID
}

// TestReseedTwoPairs: chips A and B hold valid stores of two different
// pairs. Without force reseed refuses naming both pair ids; force naming
// chip B erases and reseeds it from chip A; force naming chip A makes
// chip B the source, whose role record says its own chip A is active, so
// reseed refuses to format the chip it would have to treat as active.
func TestReseedTwoPairs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		force [2]bool
		want  string // the refusal; "" for a reseed of chip B
	}{
		{"no force", [2]bool{}, "belongs to pair %#x and chip B (given as the backup) %s to pair %#x"},
		{"force chip B", [2]bool{false, true}, ""},
		{"force chip A", [2]bool{true, false}, "the active chip by the role record (epoch 0) is chip A (given as the primary)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := syncedPairAfter(t, DefaultConfig(), 0)
			p.chipB.Restore(otherPairChipB(t).Snapshot())
			idA, idB := pairID(t, p, p.chipA), pairID(t, p, p.chipB)
			require.NotEqual(t, idA, idB)
			a, b := chipBytes(t, p.chipA), chipBytes(t, p.chipB)
			rep, err := Reseed(context.Background(), p.chipA, p.chipB, p.opts, tc.force)
			if tc.want != "" {
				require.ErrorIs(t, err, ErrReseedRefused)
				want := tc.want
				if tc.force == [2]bool{} {
					want = fmt.Sprintf(tc.want, idA, p.chipB.Geometry().Name, idB)
				}
				require.ErrorContains(t, err, want)
				require.True(t, bytes.Equal(a, chipBytes(t, p.chipA)), "chip A written")
				require.True(t, bytes.Equal(b, chipBytes(t, p.chipB)), "chip B written")
				return
			}
			require.NoError(t, err)
			require.Equal(t, 0, rep.Active)
			require.Equal(t, 1, rep.Standby)
			require.True(t, rep.Erased)
			require.Equal(t, idA, rep.PairID)
			require.True(t, bytes.Equal(a, chipBytes(t, p.chipA)), "chip A written")
			requireReseeded(t, p)
		})
	}
}

// TestReseedAfterFailoverNamesTheStandby: after a failover chip B's role
// record (epoch 1) says chip B is active, chip A's (epoch 0) still says
// chip A: the newer epoch decides, so the "nothing to reseed" refusal
// names chip A as the standby, with its generation.
func TestReseedAfterFailoverNamesTheStandby(t *testing.T) {
	p := syncedPairAfter(t, DefaultConfig(), 0)
	failOver(t, p)
	l := p.opts.Layout
	sa, err := store.Open(p.chipA, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	sb, err := store.Open(p.chipB, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	require.Equal(t, uint64(0), sa.StateRef().Role.Epoch)
	require.Equal(t, store.Role{Epoch: 1, Active: 1}, sb.StateRef().Role)
	_, err = Reseed(context.Background(), p.chipA, p.chipB, p.opts, [2]bool{})
	require.ErrorIs(t, err, ErrReseedRefused)
	require.ErrorContains(t, err, fmt.Sprintf("the standby chip A (given as the primary) %s already holds a valid store of this pair (generation %d)",
		p.chipA.Geometry().Name, sa.StateRef().Generation))
}
