package store

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sim"
)

// durableRound commits generation 1 (types 1 and 3 of 200 chunks, type 2
// of 60) and returns the chip, its snapshot and the plan of generation 2:
// a byte changed in every chunk of types 1 and 3 (delta blocks, listed by
// intent-deltas records) and type 2 rewritten whole (intent-chunks or
// intent-runs records), an intent of several journal programs.
func durableRound(t *testing.T) (*sim.Flash, *sim.Snapshot, Plan) {
	t.Helper()
	f, s := newStore(t)
	ps := payloads{1: randomBytes(1, 200*4096), 2: randomBytes(2, 60*4096), 3: randomBytes(4, 200*4096)}
	deltaRound(t, s, 1, ps)
	for _, typ := range []uint8{1, 3} {
		for i := 100; i < len(ps[typ]); i += 4096 {
			ps[typ][i] ^= 0x5a
		}
	}
	ps[2] = randomBytes(3, 60*4096)
	return f, f.Snapshot(), deltaPlanOf(2, ps)
}

// dataErases opens a writable store on f through an injector that notes
// the data blocks erased from then on.
func dataErases(t *testing.T, f *sim.Flash) (*Store, *[]uint32) {
	t.Helper()
	var erased []uint32
	var s *Store
	in := faults.NewInjector(faults.Schedule{}, faults.Options{Trace: func(op faults.Op) {
		if s == nil {
			return // Open reads
		}
		lo, n := s.DataRange()
		if op.Kind == faults.Erase && op.Off >= lo && op.Off < lo+n {
			for off := op.Off; off < op.Off+op.Len; off += s.eraseSize {
				erased = append(erased, uint32((off-lo)/s.eraseSize))
			}
		}
	}})
	s = openTest(t, in.Wrap(f, faults.Backup), Options{})
	return s, &erased
}

// TestPurgeErasesWhatTheDurableIntentNames stops a round's intent (the
// SetBetweenWrites function returns an error, as the engine's probe of an
// anomalous primary does) before each of its journal programs but the
// first, and lets it end too. At every stop the interrupted round the
// store reports (blocks, entries, completeness) is the one a store
// reopened on the chip finds by scanning the journal, and a purge in the
// session erases exactly the blocks a purge after a restart erases: those
// the records written before the stop name, a prefix of the whole
// intent's, the first records' chunks first and the delta blocks of the
// intent-deltas records written so far. The round programmed no data
// block before its intent was whole, so no block it touched is left.
func TestPurgeErasesWhatTheDurableIntentNames(t *testing.T) {
	f, snap, plan := durableRound(t)
	errStop := errors.New("primary anomalous")

	// The whole intent, and how many programs it takes.
	s := openTest(t, f, Options{})
	programs := 1
	s.SetBetweenWrites(func() error { programs++; return nil })
	r, err := s.Begin(plan)
	require.NoError(t, err)
	whole := s.Interrupted()
	require.True(t, whole.Complete)
	require.NotEmpty(t, r.intent.deltas, "the round has delta blocks")
	require.NotEmpty(t, r.intent.entries, "the round writes chunks whole")
	require.Equal(t, len(r.intent.entries)+len(r.intent.deltas), len(whole.Blocks))
	require.GreaterOrEqual(t, programs, 4, "an intent of several programs")
	t.Logf("intent of %d records in %d programs, %d blocks", r.intent.parts+1, programs, len(whole.Blocks))

	prev := -1
	for stop := 1; stop <= programs; stop++ { // programs: not stopped
		name := fmt.Sprintf("stopped after %d of %d programs", stop, programs)
		f.Restore(snap)
		s, erased := dataErases(t, f)
		calls := 0
		s.SetBetweenWrites(func() error {
			calls++
			if calls == stop {
				return errStop
			}
			return nil
		})
		r, err := s.Begin(plan)
		s.SetBetweenWrites(nil)
		if stop < programs {
			require.ErrorIs(t, err, errStop, name)
		} else {
			require.NoError(t, err, name)
			r.Abandon()
		}
		require.Empty(t, *erased, "%s: no data block erased before the intent is whole", name)
		got := s.Interrupted()
		require.NotNil(t, got, name)
		require.Equal(t, got.Blocks, r.Blocks(), name)
		afterBegin := f.Snapshot()

		// A restart finds the same interrupted round.
		want := openTest(t, f, Options{ReadOnly: true}).Interrupted()
		require.NotNil(t, want, name)
		require.Equal(t, want.Blocks, got.Blocks, name)
		require.ElementsMatch(t, want.Entries, got.Entries, name) // a whole intent lists them in plan order
		require.Equal(t, want.Complete, got.Complete, name)
		require.Equal(t, stop == programs, got.Complete, name)
		require.Subset(t, whole.Blocks, got.Blocks, name)
		require.Greater(t, len(got.Blocks), prev-1, "%s: the blocks grow with the records", name)
		prev = len(got.Blocks)
		t.Logf("%s: %d blocks", name, prev)

		// The purge in the session and after a restart erase the same.
		res, err := s.Purge()
		require.NoError(t, err, name)
		require.Equal(t, got.Blocks, res.Blocks, name)
		inSession := slices.Sorted(slices.Values(*erased))
		f.Restore(afterBegin)
		s, erased = dataErases(t, f)
		res, err = s.Purge()
		require.NoError(t, err, name)
		require.Equal(t, got.Blocks, res.Blocks, name)
		require.Equal(t, slices.Sorted(slices.Values(*erased)), inSession, name)
		require.Len(t, inSession, len(got.Blocks), name)
	}
	require.Equal(t, len(whole.Blocks), prev, "the last stop is the whole intent")
}
