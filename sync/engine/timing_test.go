package engine

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sim/simtest"
)

// TestTimedPrimaryThreshold: a read that takes exactly the threshold is
// answered in time; the first one slower than it starts the anomaly and
// the slowest one is reported; without a slow read the anomaly starts at
// the last read; mark forgets both.
func TestTimedPrimaryThreshold(t *testing.T) {
	clock := simtest.NewClock()
	t0 := clock.Now()
	f := &stepFlash{clock: clock}
	tp := &timedPrimary{Flash: f, clock: clock, threshold: 2 * time.Second}
	read := func(d time.Duration) {
		t.Helper()
		f.delays = []time.Duration{d}
		_, err := tp.ReadAt(make([]byte, 1), 0)
		require.NoError(t, err)
	}

	tp.mark()
	read(time.Second)
	read(2 * time.Second) // exactly the threshold: in time
	require.NoError(t, tp.slow())
	require.Equal(t, t0.Add(time.Second), tp.failedAt(), "no slow read: the last read")

	read(3 * time.Second) // starts at t0+3s
	read(5 * time.Second) // slower still, later
	read(time.Second)
	err := tp.slow()
	require.ErrorIs(t, err, errSlow)
	require.ErrorContains(t, err, ": 5s")
	require.Equal(t, t0.Add(3*time.Second), tp.failedAt(), "the first slow read")

	tp.mark()
	require.NoError(t, tp.slow())
	read(2*time.Second + 1)
	require.ErrorContains(t, tp.slow(), ": 2.000000001s")
	require.Equal(t, t0.Add(12*time.Second), tp.failedAt())

	// A failed read is timed as well: its start is the anomaly's.
	tp.mark()
	f.fail = errors.New("gone")
	f.delays = []time.Duration{time.Second}
	_, err = tp.ReadAtPieces(make([]byte, 1), 0, func(int) {})
	require.Error(t, err)
	require.NoError(t, tp.slow())
	require.Equal(t, t0.Add(14*time.Second+1), tp.failedAt())
}
