package store

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
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

// readBackFails is a chip whose reads of what was programmed since it
// was armed fail with a media error (the read-back of a program), while
// every other read, erase and program works: a writer's records land
// valid, and the writer gives up on them.
type readBackFails struct {
	hal.Flash
	armed      bool
	programmed map[int64]bool
}

func (f *readBackFails) WriteAt(p []byte, off int64) (int, error) {
	if f.armed {
		f.programmed[off] = true
	}
	return f.Flash.WriteAt(p, off)
}

func (f *readBackFails) Erase(off, n int64) error {
	for o := range f.programmed {
		if o >= off && o < off+n {
			delete(f.programmed, o)
		}
	}
	return f.Flash.Erase(off, n)
}

func (f *readBackFails) ReadAt(p []byte, off int64) (int, error) {
	if f.programmed[off] {
		return 0, fmt.Errorf("read at %#x: %w", off, hal.ErrMedia)
	}
	return f.Flash.ReadAt(p, off)
}

// TestPurgeAfterAFailedIntentProgramCoversTheFlash fails every journal
// program of a round's intent from its k-th program on (for each k): the
// program fails with a media error, or completes weakly (its records read
// right once, then not), or tears (some of its bits), or lands and its
// read-back fails (the last try's records stay on the chip, valid; or the
// SetBetweenWrites function stops the retry: that stop follows a failed
// program, not one that read back), so writeRecords gives up on records
// that may or may not read valid later.
// The interrupted round in the session names every block a store
// reopened on the chip finds named (three opens: weak records read
// differently each time), and the purge erases those blocks: a reopened
// store finds the round purged, without damage, every block it named
// erased and the record written after the purge (a role). When not even
// the intent's head read back, the purge ends with a compaction, not a
// purged mark (one without its intent on the chip would be damage, and a
// reader would ignore the records after it).
func TestPurgeAfterAFailedIntentProgramCoversTheFlash(t *testing.T) {
	f, snap, plan := durableRound(t)
	s := openTest(t, f, Options{})
	programs := 1
	s.SetBetweenWrites(func() error { programs++; return nil })
	_, err := s.Begin(plan)
	require.NoError(t, err)
	whole := s.Interrupted().Blocks

	ruled := func(rule string) func() (hal.Flash, func(), func()) {
		return func() (hal.Flash, func(), func()) {
			in := faults.NewInjector(mustSchedule(t, rule), faults.Options{Disarmed: true})
			return in.Wrap(f, faults.Backup), in.Arm, func() {
				in.Disarm()
				require.NoError(t, in.Err(), "the harness itself")
			}
		}
	}
	readBack := func() (hal.Flash, func(), func()) {
		rb := &readBackFails{Flash: f, programmed: map[int64]bool{}}
		return rb, func() { rb.armed = true }, func() { rb.armed, rb.programmed = false, nil }
	}
	errStop := errors.New("primary anomalous")
	for _, c := range []struct {
		name  string
		chips func() (chip hal.Flash, arm, disarm func())
		stop  bool // the SetBetweenWrites function stops the retry
	}{
		{"program fails", ruled("(on program (fail media))"), false},
		{"program weak", ruled("(on program weak)"), false},
		{"program torn", ruled("(on program (torn bits))"), false},
		{"read-back fails", readBack, false},
		{"read-back fails, retry stopped", readBack, true},
	} {
		for k := range programs {
			name := fmt.Sprintf("%s from program %d of %d", c.name, k+1, programs)
			f.Restore(snap)
			chip, arm, disarm := c.chips()
			s := openTest(t, chip, Options{})
			calls := 0
			if k == 0 {
				arm()
			}
			s.SetBetweenWrites(func() error {
				switch calls++; {
				case calls == k:
					arm()
				case calls == k+1 && c.stop:
					return errStop
				}
				return nil
			})
			_, err := s.Begin(plan)
			disarm()
			require.Error(t, err, name)
			got := s.Interrupted()
			require.NotNil(t, got, name)
			require.Subset(t, whole, got.Blocks, name)
			for range 3 {
				if found := openTest(t, f, Options{ReadOnly: true}).Interrupted(); found != nil {
					require.Subset(t, got.Blocks, found.Blocks, "%s: a restart finds more", name)
				}
			}
			res, err := s.Purge()
			require.NoError(t, err, name)
			require.Equal(t, got.Blocks, res.Blocks, name)
			role := Role{Epoch: 9, Active: 1}
			require.NoError(t, s.SetRole(role), name)
			after := openTest(t, f, Options{ReadOnly: true})
			require.Nil(t, after.Interrupted(), name)
			require.Empty(t, after.Damage(), name)
			require.Equal(t, uint64(1), after.State().Generation, name)
			require.Equal(t, role, after.State().Role, "%s: the record after the purge", name)
			buf := make([]byte, s.eraseSize)
			for _, b := range got.Blocks {
				_, err := f.ReadAt(buf, s.BlockOffset(b))
				require.NoError(t, err)
				require.True(t, hal.IsErased(buf), "%s: block %d", name, b)
			}
		}
	}
}
