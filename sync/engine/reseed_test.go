package engine

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// reseedScenario is a synced pair (generation 1 on chip B) whose chip B
// store range has then been erased: a blank chip in place of the backup.
func reseedScenario(t testing.TB) *pair {
	t.Helper()
	p := syncedPairAfter(t, DefaultConfig(), 0)
	require.NoError(t, p.chipB.Erase(0, p.chipB.Geometry().Size))
	return p
}

// requireReseeded: chip B holds a store of chip A's pair, as chip 1, with
// a committed generation of chip A's information.
func requireReseeded(t testing.TB, p *pair) {
	t.Helper()
	l := p.opts.Layout
	a, err := store.Open(p.chipA, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	b, err := store.Open(p.chipB, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	require.Equal(t, a.Identity().PairID, b.Identity().PairID)
	require.Equal(t, uint8(1), b.Identity().ChipID)
	require.Positive(t, b.StateRef().Generation)
	requireSynced(t, p, p.chipA, p.chipB, info.All())
}

// TestReseedBlankBackup: the contract's good path, and that a second
// reseed refuses as nothing to reseed.
func TestReseedBlankBackup(t *testing.T) {
	p := reseedScenario(t)
	before := chipBytes(t, p.chipA)
	rep, err := Reseed(context.Background(), p.chipA, p.chipB, p.opts, [2]bool{})
	require.NoError(t, err)
	require.Equal(t, 1, rep.Standby)
	require.False(t, rep.Erased)
	require.Equal(t, before, chipBytes(t, p.chipA), "the active chip was written")
	requireReseeded(t, p)
	_, err = Reseed(context.Background(), p.chipA, p.chipB, p.opts, [2]bool{})
	require.ErrorIs(t, err, ErrReseedRefused)
	require.Contains(t, err.Error(), "nothing to reseed")
}

// TestReseedRefuses: each refusal writes nothing to either chip.
func TestReseedRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, p *pair)
		force [2]bool
		want  string
	}{
		{"standby holds a store of this pair", func(t *testing.T, p *pair) {}, [2]bool{}, "nothing to reseed"},
		{"standby holds foreign data", func(t *testing.T, p *pair) {
			require.NoError(t, p.chipB.Erase(0, p.chipB.Geometry().Size))
			p.chipB.Poke(p.opts.Layout.StoreOff+5*p.chipB.Geometry().EraseSize, []byte("someone's data"))
		}, [2]bool{}, "ERASE"},
		{"force names the other chip", func(t *testing.T, p *pair) {
			require.NoError(t, p.chipB.Erase(0, p.chipB.Geometry().Size))
			p.chipB.Poke(p.opts.Layout.StoreOff+5*p.chipB.Geometry().EraseSize, []byte("someone's data"))
		}, [2]bool{true, false}, "ERASE"},
		{"standby holds a store of another pair", func(t *testing.T, p *pair) {
			// Another pair id (newPair's would be this pair's: both
			// formatted at the same virtual time).
			p.chipB.Restore(otherPairChipB(t).Snapshot())
		}, [2]bool{}, "which is the standby?"},
		{"the blank chip is the active one", func(t *testing.T, p *pair) {
			// Chip B active; chip A's store reseeded from it (so chip A's
			// role record says chip B is active), then chip B's store lost.
			failOver(t, p)
			l := p.opts.Layout
			require.NoError(t, p.chipA.Erase(l.StoreOff, l.StoreSize))
			rep, err := Reseed(context.Background(), p.chipA, p.chipB, p.opts, [2]bool{})
			require.NoError(t, err)
			require.Equal(t, 0, rep.Standby)
			require.NoError(t, p.chipB.Erase(l.StoreOff, l.StoreSize))
		}, [2]bool{}, "failback"},
		{"no valid store on either chip", func(t *testing.T, p *pair) {
			require.NoError(t, p.chipA.Erase(p.opts.Layout.StoreOff, p.opts.Layout.StoreSize))
			require.NoError(t, p.chipB.Erase(p.opts.Layout.StoreOff, p.opts.Layout.StoreSize))
		}, [2]bool{}, "neither chip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := syncedPairAfter(t, DefaultConfig(), 0)
			tc.setup(t, p)
			a, b := chipBytes(t, p.chipA), chipBytes(t, p.chipB)
			_, err := Reseed(context.Background(), p.chipA, p.chipB, p.opts, tc.force)
			require.ErrorIs(t, err, ErrReseedRefused)
			require.Contains(t, err.Error(), tc.want)
			require.True(t, bytes.Equal(a, chipBytes(t, p.chipA)), "chip A written")
			require.True(t, bytes.Equal(b, chipBytes(t, p.chipB)), "chip B written")
		})
	}
}

// TestReseedChipAAfterFailover: after a failover chip B is active, and
// chip A (replaced, its store range blank) is the standby reseed formats.
func TestReseedChipAAfterFailover(t *testing.T) {
	p := syncedPairAfter(t, DefaultConfig(), 0)
	failOver(t, p)
	l := p.opts.Layout
	require.NoError(t, p.chipA.Erase(l.StoreOff, l.StoreSize))
	before := chipBytes(t, p.chipB)
	rep, err := Reseed(context.Background(), p.chipA, p.chipB, p.opts, [2]bool{})
	require.NoError(t, err)
	require.Equal(t, 0, rep.Standby)
	require.Equal(t, 1, rep.Active)
	require.Equal(t, before, chipBytes(t, p.chipB), "the active chip was written")
	a, err := store.Open(p.chipA, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	require.Equal(t, uint8(0), a.Identity().ChipID)
	require.Positive(t, a.StateRef().Generation)
	require.Equal(t, uint8(1), a.StateRef().Role.Active)
}

// TestReseedForceErasesForeignData: --force naming the standby erases
// what its store range held and reseeds it.
func TestReseedForceErasesForeignData(t *testing.T) {
	p := reseedScenario(t)
	p.chipB.Poke(p.opts.Layout.StoreOff+5*p.chipB.Geometry().EraseSize, []byte("someone's data"))
	before := chipBytes(t, p.chipA)
	rep, err := Reseed(context.Background(), p.chipA, p.chipB, p.opts, [2]bool{false, true})
	require.NoError(t, err)
	require.True(t, rep.Erased)
	require.Equal(t, before, chipBytes(t, p.chipA))
	requireReseeded(t, p)
}

// TestReseedPowerCut: a power cut (clean, torn, all-but-one) at every
// program and erase of a reseed leaves the active chip byte-identical, and
// reseeding again (or, when it says there is nothing to reseed, the next
// sync round) brings the backup into service.
func TestReseedPowerCut(t *testing.T) {
	p := reseedScenario(t)
	snapA, snapB := p.chipA.Snapshot(), p.chipB.Snapshot()
	restore := func() { p.chipA.Restore(snapA); p.chipB.Restore(snapB) }
	before := chipBytes(t, p.chipA)
	var ops []faults.Op
	_, ca, cb := p.injector(t, false, func(op faults.Op) { op.Data = nil; ops = append(ops, op) }, "none")
	_, err := Reseed(context.Background(), ca, cb, p.opts, [2]bool{})
	require.NoError(t, err)
	writes := writesOf(ops)
	require.NotEmpty(t, writes)
	for _, op := range writes {
		require.Equal(t, faults.Backup, op.Role, "the reseed wrote the active chip: %v", op)
	}
	modes := []cutMode{cutClean, cutTorn, cutAllButOne}
	step := 1
	if testing.Short() {
		step = 7
	}
	for i := 0; i < len(writes); i += step {
		op := writes[i]
		for _, mode := range modes {
			restore()
			sched := cutSchedule(op, mode, uint64(i)+1)
			_, ca, cb := p.injector(t, false, nil, "%s", sched)
			_, err := Reseed(context.Background(), ca, cb, p.opts, [2]bool{})
			require.Error(t, err, sched)
			require.True(t, bytes.Equal(before, chipBytes(t, p.chipA)), "%s: the active chip changed", sched)
			_, err = Reseed(context.Background(), p.chipA, p.chipB, p.opts, [2]bool{})
			if err != nil {
				require.ErrorIs(t, err, ErrReseedRefused, sched)
				require.Contains(t, err.Error(), "nothing to reseed", sched)
				e, err := Open(context.Background(), p.chipA, p.chipB, p.opts)
				require.NoError(t, err, sched)
				_, err = e.Round(context.Background())
				require.NoError(t, err, sched)
			}
			require.True(t, bytes.Equal(before, chipBytes(t, p.chipA)), "%s: the active chip changed on the rerun", sched)
			requireReseeded(t, p)
		}
	}
}
