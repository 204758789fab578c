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

// fullJournal syncs rounds, reopening the store after each (a reopened
// writer continues in a new block), until the last block of the journal
// area in charge holds records: a store opened on it must compact before
// it appends anything (useArea). The checkpoint of its state takes
// several journal blocks. It returns the chip, the payloads and the last
// generation committed.
func fullJournal(t *testing.T) (*sim.Flash, payloads, uint64) {
	t.Helper()
	f, s := newStore(t)
	ps := payloads{1: randomBytes(1, 200*4096), 2: randomBytes(2, 40*4096)}
	gen := uint64(1)
	runRound(t, s, gen, ps)
	area := s.area
	for s.tailBlock < int64(s.layout.JournalBlocks)-1 {
		require.Less(t, gen, uint64(4*s.layout.JournalBlocks), "the journal never fills")
		s = openTest(t, f, Options{})
		gen++
		ps[2][gen] ^= 1
		runRound(t, s, gen, ps)
		require.Equal(t, area, s.area, "round %d compacted", gen)
	}
	return f, ps, gen
}

// TestCompactionErrorReachesTheCaller: a record that does not fit makes
// the writer compact first (ensureRoom), and when that compaction fails
// the caller gets its error, identity kept: a power cut at any operation
// of it is hal.ErrPowerLoss, a stop asked by the SetBetweenWrites function
// between its programs (the engine's probe of the primary finding an
// anomaly) is that function's error. Nothing is appended, and the store
// reopens at the last generation committed. Callers: Begin (the intent),
// SetRole (a failover's role record), StageConfig.
func TestCompactionErrorReachesTheCaller(t *testing.T) {
	f, ps, gen := fullJournal(t)
	snap := f.Snapshot()
	errStop := errors.New("primary anomalous")
	callers := []struct {
		name string
		call func(s *Store) error
	}{
		{"begin", func(s *Store) error {
			_, err := s.Begin(planOf(gen+1, payloads{1: ps[1], 2: ps[2], 3: randomBytes(3, 5000)}))
			return err
		}},
		{"set role", func(s *Store) error { return s.SetRole(Role{Epoch: 7, Active: 1}) }},
		{"stage config", func(s *Store) error { return s.StageConfig(Config{Types: []uint8{2}, Interval: 42}) }},
	}
	// The compaction's operations: a cut at any of them falls in it (each
	// caller compacts before its own first flash operation).
	in := faults.NewInjector(faults.Schedule{}, faults.Options{Disarmed: true, SplitPages: true})
	s := openTest(t, in.Wrap(f, faults.Backup), Options{})
	require.True(t, s.mustCompact)
	in.Arm()
	require.NoError(t, s.Compact())
	total := in.Ops()
	require.Greater(t, total, int64(16), "the checkpoint takes several blocks")

	reopened := func(name string) {
		t.Helper()
		s := openTest(t, f, Options{ReadOnly: true})
		require.Equal(t, gen, s.State().Generation, name)
		require.Equal(t, Role{}, s.State().Role, name)
		_, staged := s.Staged()
		require.False(t, staged, name)
		checkPayloads(t, s, ps)
	}
	for _, c := range callers {
		f.Restore(snap)
		s := openTest(t, f, Options{})
		calls := 0
		s.SetBetweenWrites(func() error {
			calls++
			return errStop
		})
		err := c.call(s)
		require.ErrorIs(t, err, errStop, c.name)
		require.ErrorContains(t, err, "compact journal: journal write stopped: primary anomalous", c.name)
		require.Equal(t, 1, calls, c.name)
		require.Nil(t, s.pending, c.name)
		require.Nil(t, s.round, c.name)
		reopened(c.name)

		for n := range total {
			f.Restore(snap)
			in := faults.NewInjector(faults.CutAt(n), faults.Options{Disarmed: true, SplitPages: true})
			s := openTest(t, in.Wrap(f, faults.Backup), Options{})
			in.Arm()
			err := c.call(s)
			require.NoError(t, in.Err(), "the harness itself")
			name := fmt.Sprintf("%s, cut at %d of %d", c.name, n, total)
			require.True(t, in.PoweredOff(), name)
			require.ErrorIs(t, err, hal.ErrPowerLoss, name)
			require.ErrorContains(t, err, "compact journal: ", name)
			reopened(name)
		}
	}
}
