package faults

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCancelStopsTheWork: a cancel rule cancels the context Context
// returned just before the operation it matches, which still runs (a side
// action: the erase erases); with another rule matching the same operation
// the outcome is that rule's. It is recorded as fired and prints and
// parses back. Without Context it is a harness error.
func TestCancelStopsTheWork(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sched    string
		cancelAt int // the operation (0..3, every one an erase) before which ctx is done; -1: never
		erased   []bool
	}{
		{"no cancel", "none", -1, []bool{true, true, true, true}},
		{"at 2", "(on (at 2) cancel)", 2, []bool{true, true, true, true}},
		{"at 1, erases failing from there", "(on (at 1) cancel) (on (and erase (after 1)) (fail media))", 1, []bool{true, false, false, false}},
		{"never matches", "(on (at 9) cancel)", -1, []bool{true, true, true, true}},
	} {
		s, err := ParseSchedule(tc.sched)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.sched, s.String(), tc.name)
		dev := newMem("flash1", 16<<10)
		for i := range dev.data {
			dev.data[i] = 0
		}
		var ctx context.Context
		done := -1
		in := NewInjector(s, Options{Trace: func(op Op) {
			if done < 0 && ctx.Err() != nil {
				done = int(op.Index) - 1 // cancelled during the previous operation's rules
			}
		}})
		ctx, cancel := in.Context(context.Background())
		w := in.Wrap(dev, Backup)
		var erased []bool
		for i := range 4 {
			err := w.Erase(int64(i)*4096, 4096)
			erased = append(erased, err == nil && dev.data[i*4096] == 0xff)
		}
		if done < 0 && ctx.Err() != nil {
			done = 3
		}
		cancel()
		require.Equal(t, tc.cancelAt, done, tc.name)
		require.Equal(t, tc.erased, erased, tc.name)
		require.NoError(t, in.Err(), tc.name)
		if tc.cancelAt >= 0 {
			require.Contains(t, in.Fired(), Fired{Op: Op{Index: int64(tc.cancelAt), DevIndex: int64(tc.cancelAt), Role: Backup, Kind: Erase, Off: int64(tc.cancelAt) * 4096, Len: 4096}, Action: Cancel{}}, tc.name)
		}
	}

	in := NewInjector(Schedule{Rules: []Rule{{When: At{Index: 0}, Do: Cancel{}}}}, Options{})
	_, err := in.Wrap(newMem("flash1", 4096), Backup).ReadAt(make([]byte, 1), 0)
	require.NoError(t, err, "the read runs")
	require.ErrorContains(t, in.Err(), "cancel: the injector has no context")
}
