package store

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
)

// TestPowerCutDuringCompaction cuts a journal compaction at every one of
// its flash operations (each page program, each block erase), cleanly and
// torn (faults schedules such as "(on (at 3) cut)" and
// "(seed 3) (on (at 3) (torn bits))"): the store always reopens at the
// same generation with the same staged configuration, and keeps working.
func TestPowerCutDuringCompaction(t *testing.T) {
	f, s := newStore(t)
	ps := payloads{1: randomBytes(1, 100000), 2: randomBytes(2, 7000)}
	for gen := uint64(1); gen <= 5; gen++ {
		ps[1][int(gen)*9000] ^= 1
		runRound(t, s, gen, ps)
	}
	require.NoError(t, s.StageConfig(Config{Types: []uint8{2}, Interval: 42}))
	snap := f.Snapshot()

	// compactUnder opens the store, arms the schedule (so that operation 0
	// is the compaction's first) and compacts; it returns the injector.
	// Programs go page by page, erases block by block, as an SPI NOR
	// driver issues them: a cut can fall between the checkpoint's pages.
	compactUnder := func(sched faults.Schedule) (*faults.Injector, error) {
		in := faults.NewInjector(sched, faults.Options{Disarmed: true, SplitPages: true, BlockEraseSize: eraseWindow})
		cs := openTest(t, in.Wrap(f, faults.Backup), Options{})
		in.Arm()
		err := cs.Compact()
		require.NoError(t, in.Err(), "the harness itself")
		return in, err
	}
	count, err := compactUnder(faults.Schedule{})
	require.NoError(t, err)
	total := count.Ops()
	require.Greater(t, total, int64(1))
	for n := range total {
		for _, sched := range []faults.Schedule{
			faults.CutAt(n),
			faults.TornAt(n, faults.TornBits, false, uint64(n)),
			faults.TornAt(n, faults.TornAllButOne, true, uint64(n)),
		} {
			f.Restore(snap)
			in, err := compactUnder(sched)
			require.Error(t, err, "%v", sched)
			require.True(t, in.PoweredOff(), "%v", sched)
			s, err := Open(f, testStoreOff, testStoreSize, Options{})
			require.NoError(t, err, "reopen after %v", sched)
			require.Equal(t, uint64(5), s.State().Generation, "%v", sched)
			st, ok := s.Staged()
			require.True(t, ok, "%v", sched)
			require.Equal(t, []uint8{2}, st.Types, "%v", sched)
			checkPayloads(t, s, ps)
			ps[2][10] ^= 1
			runRound(t, s, 6, ps)
			s = openTest(t, f, Options{})
			checkPayloads(t, s, ps)
			ps[2][10] ^= 1
		}
	}
}

// TestCompactionCallsBetweenWritesBetweenItsPrograms: a compaction whose
// checkpoint takes several journal blocks calls the SetBetweenWrites
// function between each two of its programs, never before the first.
func TestCompactionCallsBetweenWritesBetweenItsPrograms(t *testing.T) {
	f, s := newStore(t)
	runRound(t, s, 1, payloads{1: randomBytes(1, 200*4096), 2: randomBytes(2, 40*4096)})
	var events []byte
	in := faults.NewInjector(faults.Schedule{}, faults.Options{Trace: func(op faults.Op) {
		if op.Kind == faults.Program {
			events = append(events, 'P')
		}
	}})
	s = openTest(t, in.Wrap(f, faults.Backup), Options{})
	s.SetBetweenWrites(func() error {
		events = append(events, 'B')
		return nil
	})
	require.NoError(t, s.Compact())
	programs := bytes.Count(events, []byte("P"))
	require.GreaterOrEqual(t, programs, 2, "the checkpoint takes several blocks")
	require.Equal(t, strings.Repeat("PB", programs-1)+"P", string(events))
}
