package daemon

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sim"
)

// TestFlashClock: flash time charged to the virtual clock moves the
// engine's clock at once; while the information is held (a round) real
// time adds to it; between rounds the clock follows the wall clock and
// falls back onto it; with pace it is the wall clock.
func TestFlashClock(t *testing.T) {
	type step struct {
		hold         int           // +1 hold, -1 release, before the step
		wall, charge time.Duration // the wall clock advances, the chips charge
		want         time.Duration // Now - start
	}
	tests := []struct {
		name  string
		pace  bool
		steps []step
	}{
		{"idle follows the wall clock", false, []step{{0, time.Second, 0, time.Second}, {0, time.Minute, 0, time.Minute + time.Second}}},
		{"a burst of flash work moves it at once", false, []step{{0, 0, 3 * time.Second, 3 * time.Second}, {0, 0, 2 * time.Second, 5 * time.Second}}},
		{"idle: flash work and wall time overlap", false, []step{{0, time.Second, 3 * time.Second, 3 * time.Second}, {0, 2 * time.Second, 0, 3 * time.Second}, {0, time.Second, 0, 4 * time.Second}}},
		{"idle: it falls back onto the wall clock", false, []step{{0, 0, 10 * time.Second, 10 * time.Second}, {0, 4 * time.Second, 0, 10 * time.Second}, {0, 20 * time.Second, 0, 24 * time.Second}}},
		{"held: real time adds to flash time", false, []step{
			{+1, 0, 6 * time.Second, 6 * time.Second},               // a round's writes
			{0, 250 * time.Millisecond, 0, 6250 * time.Millisecond}, // its wait-response
			{0, 0, 12 * time.Second, 18250 * time.Millisecond},      // its purge
			{-1, 5 * time.Second, 0, 18250 * time.Millisecond},      // between rounds: the wall clock catches up
			{0, 14 * time.Second, 0, 19250 * time.Millisecond},
		}},
		{"paced: the wall clock alone", true, []step{{+1, time.Second, 3 * time.Second, time.Second}, {-1, time.Second, 0, 2 * time.Second}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
			wall := newHandClock(start)
			virtual := sim.NewClock(start)
			c := &flashClock{virtual: virtual, pace: tt.pace, wall: wall.wall, origin: start}
			prev := c.Now()
			for i, s := range tt.steps {
				switch s.hold {
				case +1:
					c.hold()
				case -1:
					c.release()
				}
				wall.advance(s.wall)
				virtual.Advance(s.charge)
				now := c.Now()
				require.Equal(t, s.want, now.Sub(start), "step %d", i)
				require.False(t, now.Before(prev), "step %d: the clock never goes back", i)
				prev = now
			}
		})
	}
}

// TestFlashClockIsMonotonic: the real clock's times carry the monotonic
// reading, so the engine's durations (differences of two of them) are
// not moved by wall-clock steps; a fault's delay moves it at once, and
// with pace takes real time.
func TestFlashClockIsMonotonic(t *testing.T) {
	virtual := sim.NewClock(time.Now())
	c := newFlashClock(virtual, false)
	a := c.Now()
	require.True(t, strings.Contains(a.String(), "m=+"), "a monotonic reading: %s", a)
	c.Advance(3 * time.Second)
	b := c.Now()
	require.GreaterOrEqual(t, b.Sub(a), 3*time.Second, "a delay is time on the clock")
	require.True(t, strings.Contains(b.String(), "m=+"), "%s", b)

	paced := newFlashClock(sim.NewClock(time.Now()), true)
	began := time.Now()
	paced.Advance(20 * time.Millisecond)
	require.GreaterOrEqual(t, time.Since(began), 20*time.Millisecond, "paced: a delay takes real time")
}

// TestScrubAgeSurvivesClockSteps: the age of a scrub of this run is
// measured on the monotonic clock, whatever the wall clock does; a scrub
// kept from an earlier run is aged by the wall clock, never negatively.
func TestScrubAgeSurvivesClockSteps(t *testing.T) {
	scrubbedAt := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		mono time.Duration // of the scrub; 0: from an earlier run
		now  time.Time
		want time.Duration
	}{
		{"this run, wall clock stepped back an hour", 10 * time.Second, scrubbedAt.Add(-time.Hour), 50 * time.Second},
		{"this run, wall clock stepped forward a day", 10 * time.Second, scrubbedAt.Add(24 * time.Hour), 50 * time.Second},
		{"earlier run", 0, scrubbedAt.Add(time.Hour), time.Hour},
		{"earlier run, wall clock now before it", 0, scrubbedAt.Add(-time.Hour), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := scrubResult{Time: scrubbedAt, mono: tt.mono}
			require.Equal(t, tt.want, scrubAge(s, 60*time.Second, tt.now))
		})
	}
}

// TestStalledFor: StalledFor is how long the primary lock's holder has
// gone without a flash operation returning, on the monotonic clock; 0
// while the lock is free. A holder whose operations keep returning is not
// stalled however long it holds the lock; an operation that returned
// before the hold does not count.
func TestStalledFor(t *testing.T) {
	c := newHandClock(time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC))
	d := &Daemon{}
	d.primaryMu.mono = c.mono
	require.Zero(t, d.StalledFor())
	d.primaryMu.opReturned() // before any hold
	c.advance(time.Hour)
	d.primaryMu.Lock()
	require.Zero(t, d.StalledFor())
	c.advance(90 * time.Second)
	require.Equal(t, 90*time.Second, d.StalledFor(), "measured from the hold, not the older operation")
	for range 20 { // a long round: an operation returns every 10 s
		d.primaryMu.opReturned()
		c.advance(10 * time.Second)
	}
	require.Equal(t, 10*time.Second, d.StalledFor(), "held 290 s, an operation returned 10 s ago")
	c.advance(time.Hour)
	require.Equal(t, time.Hour+10*time.Second, d.StalledFor())
	d.primaryMu.Unlock()
	require.Zero(t, d.StalledFor())
	d.primaryMu.Lock()
	c.advance(time.Second)
	require.Equal(t, time.Second, d.StalledFor(), "measured from this hold")
	d.primaryMu.Unlock()
}

// TestChipOperationsAreSeen: every chip the engine is given tells the
// primary lock when an operation returns, so StalledFor sees a round's
// progress on real and simulated chips alike.
func TestChipOperationsAreSeen(t *testing.T) {
	d := openSim(t, 1)
	require.NotZero(t, d.primaryMu.returned.Load(), "opening the engine read the chips")
	for _, f := range d.chips {
		before := d.primaryMu.returned.Load()
		time.Sleep(time.Millisecond)
		_, err := f.ReadAt(make([]byte, 16), 0)
		require.NoError(t, err)
		require.Greater(t, d.primaryMu.returned.Load(), before)
	}
}
