package store

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
)

// roundOps runs generation gen's round of ps on a copy of f's contents and
// returns its backup programs and erases, in order (their indices are the
// same in a run with faults, up to the first fault).
func roundOps(t *testing.T, f *sim.Flash, gen uint64, ps payloads) (progs, erases []faults.Op) {
	t.Helper()
	snap := f.Snapshot()
	defer f.Restore(snap)
	in := faults.NewInjector(faults.Schedule{}, faults.Options{Disarmed: true, Trace: func(op faults.Op) {
		switch op.Kind {
		case faults.Program:
			progs = append(progs, op)
		case faults.Erase:
			erases = append(erases, op)
		}
	}})
	s := openTest(t, in.Wrap(f, faults.Backup), Options{})
	in.Arm()
	runRound(t, s, gen, ps)
	return progs, erases
}

// reopened opens f through a fresh injector (cells a weak program left
// read differently on each read) and checks that generation gen of ps is
// there whole, with no damage.
func reopened(t *testing.T, in *faults.Injector, f *sim.Flash, gen uint64, ps payloads) {
	t.Helper()
	in.ExpireWeak()
	s := openTest(t, in.Wrap(f, faults.Backup), Options{ReadOnly: true})
	require.Empty(t, s.Damage())
	require.Equal(t, gen, s.State().Generation, "the round's commit survives")
	require.Nil(t, s.Interrupted())
	require.Empty(t, s.VerifyChunks())
	checkPayloads(t, s, ps)
}

// TestWeakProgramsAreWrittenAgain makes each program of a round weak in
// turn (it reads right once, then differently on each read): journal
// records (intent, commit) and chunk pages. Each program is read back
// twice, so the weak one is caught and written again (the journal's
// records at the next block's start, a chunk into its block after an
// erase): the round commits, and its generation reads back whole at the
// next open. With one read-back, the commit or a chunk decays.
func TestWeakProgramsAreWrittenAgain(t *testing.T) {
	f, s := newStore(t)
	runRound(t, s, 1, payloads{1: randomBytes(1, 30000), 2: randomBytes(2, 5000)})
	base := f.Snapshot()
	ps := payloads{1: randomBytes(3, 30000), 2: randomBytes(4, 5000)}
	progs, _ := roundOps(t, f, 2, ps)
	dataOff, _ := s.DataRange()
	journal, data := 0, 0
	for _, op := range progs {
		what := "journal"
		if op.Off >= dataOff {
			what = "chunk"
			if data++; data > 3 {
				continue
			}
		} else {
			journal++
		}
		t.Run(fmt.Sprintf("%s program #%d at %#x", what, op.Index, op.Off), func(t *testing.T) {
			f.Restore(base)
			in := faults.NewInjector(mustSchedule(t, fmt.Sprintf("(on (at %d) weak)", op.Index)), faults.Options{Disarmed: true})
			s := openTest(t, in.Wrap(f, faults.Backup), Options{})
			in.Arm()
			runRound(t, s, 2, ps)
			require.NotEmpty(t, in.Fired())
			reopened(t, in, f, 2, ps)
		})
	}
	require.GreaterOrEqual(t, journal, 2, "intent and commit")
}

// TestSilentEraseFailuresAreCaught makes each erase of a round report
// success without erasing (unchanged, or partly erased) in turn: the erase
// is read back and done again (and what is programmed after it is read
// back twice, which a program over unerased cells fails too), and the
// round's generation reads back whole at the next open. With every erase failing, the round fails with
// ErrVerify (the committed generation stays as it was) unless it erased
// only blocks that were erased already; either way every committed chunk
// verifies.
func TestSilentEraseFailuresAreCaught(t *testing.T) {
	f, s := newStore(t)
	ps1 := payloads{1: randomBytes(1, 30000), 2: randomBytes(2, 5000)}
	// Rounds until the store reuses blocks that hold old data.
	g := uint64(1)
	for ; s.wraps == 0; g++ {
		require.Less(t, g, uint64(2000))
		ps1[1][100] = byte(g)
		runRound(t, s, g, ps1)
	}
	base := f.Snapshot()
	ps := payloads{1: randomBytes(3, 30000), 2: randomBytes(4, 5000)}
	_, erases := roundOps(t, f, g, ps)
	require.NotEmpty(t, erases)
	for _, op := range erases {
		for _, mode := range []string{"unchanged", "partial"} {
			t.Run(fmt.Sprintf("erase #%d at %#x %s", op.Index, op.Off, mode), func(t *testing.T) {
				f.Restore(base)
				in := faults.NewInjector(mustSchedule(t, fmt.Sprintf("(on (at %d) (silent-erase %s))", op.Index, mode)), faults.Options{Disarmed: true})
				s := openTest(t, in.Wrap(f, faults.Backup), Options{})
				in.Arm()
				runRound(t, s, g, ps)
				require.NotEmpty(t, in.Fired())
				reopened(t, in, f, g, ps)
			})
		}
	}
	t.Run("every erase", func(t *testing.T) {
		f.Restore(base)
		in := faults.NewInjector(mustSchedule(t, "(on erase (silent-erase unchanged))"), faults.Options{Disarmed: true})
		s := openTest(t, in.Wrap(f, faults.Backup), Options{})
		in.Arm()
		r, err := s.Begin(planOf(g, ps))
		for i, w := range r.Writes() {
			if err != nil {
				break
			}
			lo, hi := ChunkBounds(int64(len(ps[w.Type])), testPhase, 4096, w.Index)
			_, _, err = r.Write(i, ps[w.Type][lo:hi])
		}
		if err == nil {
			err = r.Commit(State{Generation: g, Config: planOf(g, ps).Config})
		}
		again := openTest(t, f, Options{ReadOnly: true})
		if err != nil {
			// An erase of a block that did not read erased was needed.
			require.ErrorIs(t, err, ErrVerify)
			require.Equal(t, g-1, again.State().Generation)
		} else {
			// Every block the round erased was erased already.
			require.Equal(t, g, again.State().Generation)
		}
		require.Empty(t, again.VerifyChunks())
	})
}

// TestBetweenWritesStopsALongIntent: a round whose intent fills several
// journal blocks calls the SetBetweenWrites function between their
// programs (not before the first); an error from it stops the intent
// there and Begin returns it. The round is then pending, and its purge
// leaves the committed generation.
func TestBetweenWritesStopsALongIntent(t *testing.T) {
	f, s := newStore(t)
	ps1 := payloads{1: randomBytes(1, 200*4096)}
	runRound(t, s, 1, ps1)
	stop := errors.New("primary anomalous")
	calls := 0
	s.SetBetweenWrites(func() error {
		calls++
		return stop
	})
	_, err := s.Begin(planOf(2, payloads{1: randomBytes(2, 200*4096)}))
	require.ErrorIs(t, err, stop)
	require.Equal(t, 1, calls, "called once a first program is done, and stops the run")
	s.SetBetweenWrites(nil)
	require.NotNil(t, s.Interrupted())
	_, err = s.Purge()
	require.NoError(t, err)
	again := openTest(t, f, Options{ReadOnly: true})
	require.Equal(t, uint64(1), again.State().Generation)
	checkPayloads(t, again, ps1)
}

// TestEraseCheckedErasesAgainAtMostTwice: eraseChecked on one data block
// holding data, its erases failing as the schedule says. An erase that
// reports success without erasing is read back and done again, at most
// twice more (three erases, then ErrVerify naming them, the block left as
// it was); an erase error on the way is returned as it is; an erase that
// works the second time ends it there.
func TestEraseCheckedErasesAgainAtMostTwice(t *testing.T) {
	f, s := newStore(t)
	e := f.Geometry().EraseSize
	off := s.dataOff(7)
	data := randomBytes(7, int(e))
	base := f.Snapshot()
	for _, tc := range []struct {
		sched  string
		erases int
		want   error // nil: the block ends erased
		msg    string
	}{
		{"(on erase (silent-erase unchanged))", 3, ErrVerify, fmt.Sprintf("4096 bytes at %#x do not read erased after 3 erases that reported success", off)},
		{"(on (at 0) (silent-erase unchanged)) (on (at 2) (fail media))", 2, hal.ErrMedia, "media error"},
		{"(on (at 0) (silent-erase unchanged)) (on (at 2) (silent-erase unchanged)) (on (at 4) (fail media))", 3, hal.ErrMedia, "media error"},
		{"(on (at 0) (silent-erase unchanged))", 2, nil, ""},
		{"(on (at 0) (silent-erase unchanged)) (on (at 2) (silent-erase unchanged))", 3, nil, ""},
	} {
		t.Run(tc.sched, func(t *testing.T) {
			f.Restore(base)
			require.NoError(t, f.Erase(off, e))
			f.Poke(off, data)
			erases := 0
			in := faults.NewInjector(mustSchedule(t, tc.sched), faults.Options{Trace: func(op faults.Op) {
				if op.Kind == faults.Erase {
					erases++
				}
			}})
			s.flash = in.Wrap(f, faults.Backup)
			err := s.eraseChecked(off, e)
			require.Equal(t, tc.erases, erases, "erases")
			got := make([]byte, e)
			_, rerr := f.ReadAt(got, off)
			require.NoError(t, rerr)
			if tc.want == nil {
				require.NoError(t, err)
				require.True(t, hal.IsErased(got))
				return
			}
			require.ErrorIs(t, err, tc.want)
			require.ErrorContains(t, err, tc.msg)
			require.Equal(t, data, got, "the block is left as it was")
		})
	}
}
