package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// writeOps is the programs and erases of both chips since before.
func writeOps(a, b *sim.Flash, before [2]hal.Stats) (programs, erases int64) {
	da, db := a.Stats().Sub(before[0]), b.Stats().Sub(before[1])
	return da.Programs + db.Programs, da.Erases + db.Erases
}

func pairStats(p *pair) [2]hal.Stats { return [2]hal.Stats{p.chipA.Stats(), p.chipB.Stats()} }

// wholeChip returns chip f's contents.
func wholeChip(t testing.TB, f hal.Flash) []byte { return readRange(t, f, 0, f.Geometry().Size) }

// interruptedScenario returns a pair whose round was cut by a power loss
// after its intent reached the backup store, so the store holds an
// interrupted round.
func interruptedScenario(t *testing.T) *cutScenario {
	s := newCutScenario(t)
	opts := s.pair.opts
	l := opts.Layout
	for _, op := range s.roundWrites(t, opts) {
		s.cutRound(t, opts, op, cutClean, 1)
		st, err := store.Open(s.pair.chipB, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
		require.NoError(t, err)
		if st.Interrupted() != nil {
			return s
		}
	}
	t.Fatal("no power cut left an interrupted round")
	return nil
}

// requireReadOnlyOpen opens p read-only and checks that it programmed and
// erased nothing, left both chips byte-identical, and refuses to write.
func requireReadOnlyOpen(t *testing.T, p *pair) *Engine {
	t.Helper()
	imgA, imgB := wholeChip(t, p.chipA), wholeChip(t, p.chipB)
	before := pairStats(p)
	opts := p.opts
	opts.ReadOnly = true
	e, err := Open(context.Background(), p.chipA, p.chipB, opts)
	require.NoError(t, err)
	_, err = e.Round(context.Background())
	require.ErrorIs(t, err, ErrReadOnly)
	require.ErrorIs(t, e.SetConfig(e.Config()), ErrReadOnly)
	_, err = e.Failback(context.Background())
	require.ErrorIs(t, err, ErrReadOnly)
	_, err = e.UpgradeRound(context.Background(), KeepUpgraded)
	require.ErrorIs(t, err, ErrReadOnly)
	_, err = e.IdleErase(context.Background())
	require.ErrorIs(t, err, ErrReadOnly)
	e.Release()
	programs, erases := writeOps(p.chipA, p.chipB, before)
	require.Zero(t, programs, "programs of a read-only open")
	require.Zero(t, erases, "erases of a read-only open")
	require.Equal(t, imgA, wholeChip(t, p.chipA), "chip A changed")
	require.Equal(t, imgB, wholeChip(t, p.chipB), "chip B changed")
	return e
}

func TestReadOnlyOpenInterruptedRound(t *testing.T) {
	s := interruptedScenario(t)
	p := s.pair
	ro := requireReadOnlyOpen(t, p)
	pend := ro.Pending()
	require.Len(t, pend, 1)
	require.Contains(t, pend[0].What, "interrupted round of generation")
	require.False(t, pend[0].Info, "a purge does not touch the information region")
	require.Equal(t, s.base, ro.Status().Generation, "the committed generation")
	_, ok := ro.OpenScrub()
	require.True(t, ok, "the backup's committed chunks are checked read-only")

	// The read-write open still recovers, and answers as the read-only one did.
	before := pairStats(p)
	e := p.open(t)
	defer e.Release()
	_, erases := writeOps(p.chipA, p.chipB, before)
	require.Positive(t, erases, "the purge erases the interrupted round's blocks")
	require.Empty(t, e.Pending())
	l := p.opts.Layout
	st, err := store.Open(p.chipB, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	require.Nil(t, st.Interrupted(), "recovered")
	require.Equal(t, e.Config(), ro.Config())
	require.Equal(t, e.Status().Generation, ro.Status().Generation)
}

func TestReadOnlyOpenDamagedSuperblock(t *testing.T) {
	p := syncedPairAfter(t, DefaultConfig(), 0)
	l := p.opts.Layout
	junk := make([]byte, 64)
	for i := range junk {
		junk[i] = 0x5a
	}
	p.chipB.Poke(l.StoreOff+16, junk) // superblock copy 0 of the backup's store
	ro := requireReadOnlyOpen(t, p)
	require.Empty(t, ro.Pending())
	require.NotEmpty(t, ro.Status().Damage, "the damaged copy is reported")
	_, ok := ro.OpenScrub()
	require.True(t, ok)
	st, err := store.Open(p.chipB, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	require.NotEmpty(t, st.Damage(), "still damaged after the read-only open")

	// The read-write open still rewrites the damaged copy.
	e := p.open(t)
	defer e.Release()
	require.Equal(t, ro.Config(), e.Config())
	st, err = store.Open(p.chipB, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	require.Empty(t, st.Damage(), "repaired by the read-write open")
}

func TestReadOnlyOpenHealthy(t *testing.T) {
	p := syncedPairAfter(t, DefaultConfig(), 0)
	ro := requireReadOnlyOpen(t, p)
	require.Empty(t, ro.Pending())
	e := p.open(t)
	defer e.Release()
	require.Equal(t, e.Config(), ro.Config())
	require.Equal(t, e.Status().Generation, ro.Status().Generation)
}

// TestReadOnlyOpenRestoreDefaultsCut: a restore-defaults cut in the middle
// of writing the defaults to the primary (its mark durable): a read-only
// open writes nothing and reports the restore as a pending repair of the
// information region (Info); the read-write open still completes it.
func TestReadOnlyOpenRestoreDefaultsCut(t *testing.T) {
	p, snapA, snapB, ops := tracedRestoreDefaults(t)
	l := p.opts.Layout
	var defaults []int64
	for _, op := range ops {
		if op.Role == faults.Primary && op.Kind == faults.Program && op.Off >= l.InfoOff && op.Off < l.InfoOff+l.InfoSize {
			defaults = append(defaults, op.Index)
		}
	}
	require.NotEmpty(t, defaults)
	p.chipA.Restore(snapA)
	p.chipB.Restore(snapB)
	e, _ := p.openWithFaults(t, p.opts, "(on (at %d) cut)", defaults[len(defaults)/2])
	require.ErrorIs(t, e.Upgrade(RestoreDefaults), hal.ErrPowerLoss)

	ro := requireReadOnlyOpen(t, p)
	pend := ro.Pending()
	require.Len(t, pend, 1)
	require.True(t, pend[0].Info, "the restore writes the information region")
	require.Contains(t, pend[0].What, "restore-defaults")
	require.True(t, ro.Status().RestoreIncomplete)

	rw := p.open(t)
	defer rw.Release()
	require.Empty(t, rw.Pending())
	require.False(t, rw.Status().RestoreIncomplete, "completed by the read-write open")
	for _, ty := range info.All() {
		rec, err := p.region(t, p.chipA).Read(ty)
		require.NoError(t, err)
		require.Equal(t, info.Default(ty), rec.Payload, "%v", ty)
	}
}

// TestReadOnlyOpenRestorePending: a failover whose restore of the
// information region onto the new active chip could not finish (a type
// without a good copy, as in TestRestoreFailureRefusesRoundsUntilItCompletes):
// a read-only open writes nothing and reports the restore as a pending
// repair of the information region (Info).
func TestReadOnlyOpenRestorePending(t *testing.T) {
	ctx := context.Background()
	p := committedPair(t, DefaultConfig())
	l := p.opts.Layout
	s, err := store.Open(p.chipB, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	var victim info.Type
	for _, ty := range info.All() {
		want, err := s.ReadPayload(uint8(ty))
		require.NoError(t, err)
		rec, err := p.region(t, p.chipA).Read(ty)
		require.NoError(t, err)
		if victim == 0 && string(rec.Payload) != string(want) {
			victim = ty
		}
	}
	require.NotZero(t, victim)
	ts, ok := s.StateRef().Type(uint8(victim))
	require.True(t, ok)
	off := s.BlockOffset(ts.Chunks[0].Block) + 10
	b := readRange(t, p.chipB, off, 1)
	p.chipB.Poke(off, []byte{^b[0]})
	n := midWrite(t, p.traceRound(t, p.opts, "none"))
	e, _ := p.openWithFaults(t, p.opts, "(on (and primary read (after %d)) (fail timeout))", n)
	_, err = e.Round(ctx)
	require.ErrorIs(t, err, ErrRestorePending)

	ro := requireReadOnlyOpen(t, p)
	require.True(t, ro.Status().RestorePending)
	var found bool
	for _, pd := range ro.Pending() {
		if pd.Info && strings.Contains(pd.What, "failover's restore") {
			found = true
		}
	}
	require.True(t, found, "pending: %v", ro.Pending())
}
