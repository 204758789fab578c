package engine

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sim"
)

// steppedClock is the wall clock of a BMC whose time is stepped (by NTP,
// or set at boot): Now is the virtual clock plus an offset that a step
// changes; Sleep waits on the virtual clock, which steps do not move (as
// a real sleep runs on the monotonic clock). The sleepsBeforeStep-th
// sleep (from 1) first steps the clock by step.
type steppedClock struct {
	*sim.Clock
	mu               sync.Mutex
	offset           time.Duration
	sleeps           int
	sleepsBeforeStep int
	step             time.Duration
}

func (c *steppedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Clock.Now().Add(c.offset)
}

func (c *steppedClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps++
	if c.sleeps == c.sleepsBeforeStep {
		c.offset += c.step
	}
	c.mu.Unlock()
	return c.Clock.Sleep(ctx, d)
}

// TestRunSurvivesClockSteps: a step of the wall clock, forward or back,
// while Run waits for the next round, or before the engine opens (a BMC
// booting at 1970 with a schedule written in 2026), never loses a round,
// never runs a burst of them and never leaves the next one years away:
// on the virtual (monotonic) clock, rounds stay one interval apart.
func TestRunSurvivesClockSteps(t *testing.T) {
	const years = 56 * 365 * 24 * time.Hour
	for _, tc := range []struct {
		name   string
		atOpen time.Duration // step before the engine opens
		step   time.Duration // step at Run's second sleep
	}{
		{"stepped back while waiting", 0, -years},
		{"stepped forward while waiting", 0, 10 * 365 * 24 * time.Hour},
		{"booted at 1970", -years, 0},
		{"booted at 1970, then stepped to now", -years, years},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Interval = 5 * time.Minute
			p := newPair(t, 8<<20, 1<<20, cfg)
			_, err := p.open(t).Round(context.Background()) // the schedule, written by the clock before the steps
			require.NoError(t, err)
			p.clock.Advance(time.Minute)
			clock := &steppedClock{Clock: p.clock, offset: tc.atOpen, sleepsBeforeStep: 2, step: tc.step}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			opts := p.opts
			opts.Clock = clock
			var ends []time.Duration // on the virtual clock
			opts.OnRound = func(rep RoundReport, err error) {
				require.NoError(t, err)
				ends = append(ends, p.clock.Elapsed())
				if len(ends) == 5 {
					cancel()
				}
			}
			opened := p.clock.Elapsed()
			e, err := Open(ctx, p.chipA, p.chipB, opts)
			require.NoError(t, err)
			require.ErrorIs(t, e.Run(ctx), context.Canceled)
			require.Len(t, ends, 5)
			require.Less(t, ends[0]-opened, cfg.Interval, "the first round within one interval of the start")
			for i := 1; i < len(ends); i++ {
				gap := ends[i] - ends[i-1]
				require.Greater(t, gap, cfg.Interval/2, "rounds %d and %d: a burst", i-1, i)
				require.Less(t, gap, cfg.Interval+time.Minute, "rounds %d and %d: a round lost", i-1, i)
			}
		})
	}
}
