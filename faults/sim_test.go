package faults

import (
	"testing"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
	"github.com/stretchr/testify/require"
)

// TestOnSimulator runs torn operations and delays against package sim, whose
// Poke, SetUnstable and Clock the injector uses.
func TestOnSimulator(t *testing.T) {
	clk := sim.NewClock(time.Unix(0, 0))
	chip := simtest.Chip(t, "mx66l1g45g", sim.Options{Size: 1 << 20, Clock: clk, Name: "flash1", Seed: 5})
	s, err := ParseSchedule("(seed 2) (on (at 1) (delay 5s)) (on (at 1) (torn bits unstable))")
	require.NoError(t, err)
	in := NewInjector(s, Options{Clock: clk})
	w := in.Wrap(chip, Backup)
	require.NoError(t, w.Erase(0, 4096)) // #0
	before := clk.Elapsed()
	_, err = w.WriteAt(make([]byte, 256), 0) // #1: torn
	require.ErrorIs(t, err, hal.ErrPowerLoss)
	spent := clk.Elapsed() - before
	require.GreaterOrEqual(t, spent, 5*time.Second)
	require.Less(t, spent, 5*time.Second+time.Millisecond, "the torn program charges only the read of the old bytes")
	require.NoError(t, in.Err())
	in.PowerOn()
	differ, a := readsDiffer(t, chip, 256, nil, 20)
	require.True(t, differ, "the simulator's unstable range reads differently")
	require.NotEqual(t, make([]byte, 256), a)
}
