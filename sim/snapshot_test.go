package sim

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/stretchr/testify/require"
)

// churn applies n seeded random valid operations (programs, erases, bad
// blocks) to f.
func churn(t *testing.T, f *Flash, seed uint64, n int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed^0xc0ffee))
	g := f.Geometry()
	for range n {
		switch rng.IntN(5) {
		case 0, 1, 2:
			if g.Kind == hal.NAND {
				b := rng.Int64N(g.Blocks())
				if bad, _ := f.IsBad(b * g.EraseSize); bad {
					continue
				}
				// Program the next free page of the block, if any.
				_ = f.Erase(b*g.EraseSize, g.EraseSize)
				_, err := f.WriteAt(fill(int(g.PageSize), byte(rng.Uint32())), b*g.EraseSize)
				require.NoError(t, err)
				continue
			}
			off := rng.Int64N(g.Size - 600)
			_, err := f.WriteAt(fill(1+rng.IntN(599), byte(rng.Uint32())), off)
			require.NoError(t, err)
		case 3:
			b := rng.Int64N(g.Blocks())
			if bad, _ := f.IsBad(b * g.EraseSize); !bad {
				require.NoError(t, f.Erase(b*g.EraseSize, g.EraseSize))
			}
		case 4:
			if g.Kind == hal.NAND && rng.IntN(4) == 0 {
				require.NoError(t, f.MarkBad(rng.Int64N(g.Size)))
			}
		}
	}
}

type chipState struct {
	contents []byte
	wear     []int64
	bad      []bool
	versions []uint64
	stats    hal.Stats
}

func stateOf(t *testing.T, f *Flash) chipState {
	t.Helper()
	g := f.Geometry()
	s := chipState{stats: f.Stats()}
	for b := int64(0); b < g.Blocks(); b++ {
		s.wear = append(s.wear, f.Wear(b))
		bad, err := f.IsBad(b * g.EraseSize)
		require.NoError(t, err)
		s.bad = append(s.bad, bad)
		s.versions = append(s.versions, f.BlockVersion(b))
	}
	s.contents = readAll(t, f) // counted in f's stats after s.stats was taken
	return s
}

func TestSnapshotRestore(t *testing.T) {
	for _, name := range []string{norName, nandName} {
		t.Run(name, func(t *testing.T) {
			f := newChip(t, name, 4<<20)
			churn(t, f, 1, 300)
			s0 := f.Snapshot()
			want := stateOf(t, f)
			f.Restore(s0) // undo the reads' statistics
			churn(t, f, 2, 2000)
			require.NotEqual(t, want.contents, readAll(t, f))
			f.Restore(s0)
			require.Equal(t, want, stateOf(t, f))
		})
	}
}

func TestSnapshotsAreIndependent(t *testing.T) {
	f := newChip(t, norName, 1<<20)
	var snaps []*Snapshot
	var states []chipState
	for i := range 6 {
		churn(t, f, uint64(10+i), 50)
		snaps = append(snaps, f.Snapshot())
		states = append(states, stateOf(t, f))
		f.Restore(snaps[i])
	}
	// Restore in a scrambled order, changing the chip in between each time.
	for k, i := range []int{3, 0, 5, 5, 1, 4, 2, 0, 3} {
		f.Restore(snaps[i])
		require.Equal(t, states[i], stateOf(t, f), "snapshot %d", i)
		f.Restore(snaps[i])
		churn(t, f, uint64(100+k), 40)
	}
	// A snapshot taken after a restore, then changed, is its own branch.
	f.Restore(snaps[2])
	branch := f.Snapshot()
	churn(t, f, 999, 100)
	f.Restore(snaps[2])
	require.Equal(t, states[2], stateOf(t, f))
	f.Restore(branch)
	require.Equal(t, states[2].contents, stateOf(t, f).contents)
}

func TestRestoreIntoAnotherChip(t *testing.T) {
	a := newChip(t, norName, 1<<20)
	churn(t, a, 5, 200)
	s := a.Snapshot()
	want := stateOf(t, a)
	b := newChip(t, norName, 1<<20)
	b.Restore(s)
	require.Equal(t, want.contents, readAll(t, b))
	// Changing b does not change a or the snapshot.
	require.NoError(t, b.Erase(0, 1<<20))
	require.Equal(t, want.contents, readAll(t, a))
	a.Restore(s)
	require.Equal(t, want.contents, readAll(t, a))

	c := newChip(t, norName, 2<<20)
	require.Panics(t, func() { c.Restore(s) })
	require.Panics(t, func() { c.Restore(nil) })
}

func TestRestoreKeepsTheClock(t *testing.T) {
	f := newChip(t, norName, 1<<20)
	s := f.Snapshot()
	require.NoError(t, f.Erase(0, 4096))
	now := f.Clock().Now()
	f.Restore(s)
	require.Equal(t, now, f.Clock().Now())
	require.Equal(t, time.Duration(0), f.Stats().Elapsed)
	require.Equal(t, hal.Stats{}, s.Stats())
}

func TestBlockVersion(t *testing.T) {
	f := newChip(t, norName, 1<<20)
	require.Equal(t, uint64(0), f.BlockVersion(0))
	_, err := f.WriteAt([]byte{0}, 4096)
	require.NoError(t, err)
	v1 := f.BlockVersion(1)
	require.NotZero(t, v1)
	require.Equal(t, uint64(0), f.BlockVersion(0), "untouched block keeps its version")
	s := f.Snapshot()
	require.Equal(t, v1, f.BlockVersion(1), "a snapshot changes no version")
	_, err = f.WriteAt([]byte{0}, 4097)
	require.NoError(t, err)
	v2 := f.BlockVersion(1)
	require.NotEqual(t, v1, v2)
	f.Restore(s)
	require.Equal(t, v1, f.BlockVersion(1))
	_, err = f.WriteAt([]byte{0}, 4098) // a different change on another branch
	require.NoError(t, err)
	require.NotContains(t, []uint64{0, v1, v2}, f.BlockVersion(1))
	require.NoError(t, f.Erase(4096, 4096))
	require.NotContains(t, []uint64{0, v1, v2}, f.BlockVersion(1), "an erased block is not version 0 once touched")
	require.Equal(t, uint64(0), f.BlockVersion(-1))
	require.Equal(t, uint64(0), f.BlockVersion(256))
}

// TestSnapshotCost checks the copy-on-write bookkeeping in allocations
// rather than time: a snapshot of a 128 MiB chip allocates only the
// Snapshot; the first program of a block after a snapshot copies the block
// table, one chunk and one block; in a campaign's loop (snapshot, operation,
// restore) the copies are recycled, so nothing is allocated.
func TestSnapshotCost(t *testing.T) {
	f := newChip(t, "mx66l1g45g", 0)
	for b := range int64(100) {
		_, err := f.WriteAt(fill(256, 0x11), b*(1<<20))
		require.NoError(t, err)
	}
	var s *Snapshot
	require.Equal(t, 1.0, testing.AllocsPerRun(100, func() { s = f.Snapshot() }))
	require.Equal(t, 0.0, testing.AllocsPerRun(100, func() { f.Restore(s) }))
	p := fill(256, 0x01)
	var kept []*Snapshot
	require.Equal(t, 4.0, testing.AllocsPerRun(100, func() {
		kept = append(kept[:0], f.Snapshot()) // the state below stays referenced
		_, _ = f.WriteAt(p, 5<<20)
	}))
	require.Equal(t, 0.0, testing.AllocsPerRun(100, func() { _, _ = f.WriteAt(p, 5<<20) }), "owned block: in place")
	require.Equal(t, 0.0, testing.AllocsPerRun(100, func() {
		f.Restore(s)
		_, _ = f.WriteAt(p, 5<<20)
		_, _ = f.WriteAt(p, 70<<20)
		_ = f.Erase(6<<20, 64<<10)
	}), "campaign loop: copies are recycled")
	buf := make([]byte, 4096)
	require.Equal(t, 0.0, testing.AllocsPerRun(100, func() { _, _ = f.ReadAt(buf, 5<<20) }))
	f.Restore(s)
	got := make([]byte, 256)
	_, err := f.ReadAt(got, 5<<20)
	require.NoError(t, err)
	require.Equal(t, fill(256, 0x11), got, "recycling did not leak into the snapshot")
}
