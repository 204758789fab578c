package faults

import (
	"bytes"
	"testing"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/stretchr/testify/require"
)

// TestOnSimulator runs torn operations and delays against package sim, whose
// Poke, SetUnstable and Clock the injector uses.
func TestOnSimulator(t *testing.T) {
	part, err := sim.LookupPart("mx66l1g45g")
	require.NoError(t, err)
	clk := sim.NewClock(time.Unix(0, 0))
	chip, err := sim.New(sim.Options{Part: part, Size: 1 << 20, Clock: clk, Name: "flash1", Seed: 5})
	require.NoError(t, err)
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
	a, b := make([]byte, 256), make([]byte, 256)
	differ := false
	for i := 0; i < 20 && !differ; i++ {
		_, err = chip.ReadAt(a, 0)
		require.NoError(t, err)
		_, err = chip.ReadAt(b, 0)
		require.NoError(t, err)
		differ = !bytes.Equal(a, b)
	}
	require.True(t, differ, "the simulator's unstable range reads differently")
	require.NotEqual(t, make([]byte, 256), a)
}
