package engine

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TestWallDatesClockDurations: with Options.Wall set, every date the
// engine records or reports (the committed generation's sync time and
// next sync, the round's start, events, the status) is Wall's, while the
// round's duration is the chips' virtual clock's, which has run far
// ahead (the format and fill). Checked failing with Wall ignored (e.now
// returning the clock's time) and with the duration measured from
// Started.
func TestWallDatesClockDurations(t *testing.T) {
	clock := simtest.NewClock()
	a, b := simtest.Pair(t, "mx66l1g45g", sim.Options{Size: 8 << 20, Clock: clock, Seed: 1})
	wallAt := clock.Now().Add(-time.Hour) // the wall clock stands still, an hour before the virtual one began
	l, err := DefaultLayout(a.Geometry(), 1<<20)
	require.NoError(t, err)
	opts := Options{Clock: clock, Wall: func() time.Time { return wallAt }, Layout: l, Config: DefaultConfig()}
	_, err = FormatAndFill(a, b, opts, cmcsim.New(7).Populate)
	require.NoError(t, err)
	require.Greater(t, clock.Elapsed(), time.Second, "the format and fill charged the virtual clock")
	e, err := Open(context.Background(), a, b, opts)
	require.NoError(t, err)
	before := clock.Elapsed()
	rep, err := e.Round(context.Background())
	require.NoError(t, err)
	require.Equal(t, OutcomeCommitted, rep.Outcome)
	require.Equal(t, clock.Elapsed()-before, rep.Duration, "the duration is the virtual clock's")
	require.Positive(t, rep.Duration)
	require.Equal(t, wallAt, rep.Started)
	for _, ev := range e.Events() {
		require.Equal(t, wallAt, ev.Time, "event %v", ev.Kind)
	}
	st := e.Status()
	require.Equal(t, wallAt, st.LastSync)
	require.Equal(t, wallAt.Add(DefaultConfig().Interval), st.NextSync)
	s, err := store.Open(b, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	require.True(t, s.StateRef().Time.Equal(wallAt), "recorded sync time %v", s.StateRef().Time)
	require.True(t, s.StateRef().NextSync.Equal(wallAt.Add(DefaultConfig().Interval)))
}
