package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sim"
)

// wrappedStore returns a store whose allocation cursor has gone round the
// data area (no blank block left: free blocks are dirty) and the payloads
// it holds.
func wrappedStore(t *testing.T) (*Store, *sim.Flash, payloads) {
	f, s := newStore(t)
	ps := payloads{1: randomBytes(1, 200*4096)}
	for gen := uint64(1); s.wraps == 0; gen++ {
		ps[1] = randomBytes(gen, 200*4096) // every chunk changes
		runRound(t, s, gen, ps)
		require.Less(t, gen, uint64(20))
	}
	gen := s.State().Generation + 1
	ps[1] = randomBytes(100, 200*4096)
	runRound(t, s, gen, ps)
	return s, f, ps
}

// TestEraseAheadSavesTheRoundsErases: erasing ahead between rounds makes
// the next round program without erasing, never touches the committed
// chunks, and stops once enough blocks are ready.
func TestEraseAheadSavesTheRoundsErases(t *testing.T) {
	s, _, ps := wrappedStore(t)
	before := s.readyBlocks()
	n := 0
	for {
		st, err := s.EraseAhead(64)
		require.NoError(t, err)
		n += st.Erased
		if st.Done {
			require.GreaterOrEqual(t, st.Ready, 64)
			break
		}
		require.Positive(t, st.Erased)
	}
	require.Positive(t, n)
	require.GreaterOrEqual(t, s.readyBlocks(), before+n)
	checkPayloads(t, s, ps) // nothing committed was erased
	require.Empty(t, s.VerifyChunks())
	st, err := s.EraseAhead(64)
	require.NoError(t, err)
	require.Equal(t, EraseAheadStep{Ready: st.Ready, Done: true}, st, "nothing more to do")

	// A round of 40 chunks now erases nothing.
	for i := range 40 {
		ps[1][i*4096+100] ^= 0xFF
	}
	erases, _ := runRound(t, s, s.State().Generation+1, ps)
	require.Zero(t, erases)
	checkPayloads(t, s, ps)
}

// TestEraseAheadRefusesPendingRound: with an interrupted round not yet
// purged (its blocks hold what a purge must erase and verify) the erase
// ahead refuses; a read-only store refuses too.
func TestEraseAheadRefusesPendingRound(t *testing.T) {
	s, _, ps := wrappedStore(t)
	ps[1][5] ^= 1
	r, err := s.Begin(planOf(s.State().Generation+1, ps))
	require.NoError(t, err)
	r.Abandon()
	s2 := openTest(t, s.Flash(), Options{})
	require.NotNil(t, s2.Interrupted())
	_, err = s2.EraseAhead(64)
	require.ErrorIs(t, err, ErrPending)
	_, err = s2.Purge()
	require.NoError(t, err)
	_, err = s2.EraseAhead(64)
	require.NoError(t, err)
	ro := openTest(t, s.Flash(), Options{ReadOnly: true})
	_, err = ro.EraseAhead(64)
	require.ErrorIs(t, err, ErrReadOnly)
}

// TestEraseAheadPowerCut: a power cut or a torn erase at any operation of
// erasing ahead leaves the committed generation whole, and the reopened
// store's next round writes correct chunks (it does not trust the torn
// blocks as erased).
func TestEraseAheadPowerCut(t *testing.T) {
	requireIdleStepPowerSafe(t, func(s *Store) error {
		var err error
		for i := 0; i < 4 && err == nil; i++ {
			_, err = s.EraseAhead(64)
		}
		return err
	})
}

// requireIdleStepPowerSafe runs step (an idle-time erase) on a wrapped
// store, then again with a power cut and with a torn erase at each of its
// operations: every time the reopened store holds the committed generation
// whole, undamaged, and its next round commits correct chunks.
func requireIdleStepPowerSafe(t *testing.T, step func(*Store) error) {
	t.Helper()
	s0, chip, ps := wrappedStore(t)
	snap := chip.Snapshot()
	run := func(sched faults.Schedule) (*faults.Injector, error) {
		in := faults.NewInjector(sched, faults.Options{Disarmed: true, SplitPages: true, BlockEraseSize: eraseWindow})
		s := openTest(t, in.Wrap(chip, faults.Backup), Options{})
		in.Arm()
		err := step(s)
		require.NoError(t, in.Err(), "the harness itself")
		return in, err
	}
	count, err := run(faults.Schedule{})
	require.NoError(t, err)
	total := count.Ops()
	require.Greater(t, total, int64(1))
	gen := s0.State().Generation
	for n := range total {
		for _, sched := range []faults.Schedule{
			faults.CutAt(n),
			faults.TornAt(n, faults.TornBits, false, uint64(n)),
		} {
			chip.Restore(snap)
			in, err := run(sched)
			require.Error(t, err, "%v", sched)
			require.True(t, in.PoweredOff(), "%v", sched)
			s := openTest(t, chip, Options{})
			require.Empty(t, s.Damage(), "%v", sched)
			require.Equal(t, gen, s.State().Generation, "%v", sched)
			checkPayloads(t, s, ps)
			q := payloads{1: append([]byte(nil), ps[1]...)}
			for i := range 60 {
				q[1][i*4096+7] ^= 0x5A
			}
			runRound(t, s, gen+1, q)
			s = openTest(t, chip, Options{})
			require.Equal(t, gen+1, s.State().Generation, "%v", sched)
			checkPayloads(t, s, q)
			require.Empty(t, s.VerifyChunks(), "%v", sched)
		}
	}
}

// TestEraseAheadWithWholeWordsOfDataBlocks: on a store whose data blocks
// fill whole 64-bit words of the block sets (a multiple of 64), EraseAhead
// counts the ready blocks over exactly the data blocks: a fresh store has
// them all blank, so it is done at once with every block ready.
func TestEraseAheadWithWholeWordsOfDataBlocks(t *testing.T) {
	f := newChip(t)
	e := f.Geometry().EraseSize
	fo := FormatOptions{ChipID: 1, PairID: 42, Time: time.Unix(1000, 0), MaxChunks: testMaxChunks,
		Config: Config{Types: []uint8{1, 2}, Interval: time.Minute, Threshold: time.Second}}
	size := int64(testStoreSize)
	for ; ; size -= e {
		sb, err := PlanLayout(f.Geometry(), size, fo)
		require.NoError(t, err, "no layout with a multiple of 64 data blocks")
		if sb.DataBlocks%64 == 0 {
			break
		}
	}
	require.NoError(t, Format(f, testStoreOff, size, fo))
	s, err := Open(f, testStoreOff, size, Options{})
	require.NoError(t, err)
	n := int(s.layout.DataBlocks)
	require.Zero(t, n%64)
	step, err := s.EraseAhead(n)
	require.NoError(t, err)
	require.Equal(t, EraseAheadStep{Ready: n, Done: true}, step)
	step, err = s.EraseAhead(n + 1)
	require.NoError(t, err)
	require.Equal(t, EraseAheadStep{Ready: n, Done: true}, step, "nothing dirty to erase")
}
