package info

import (
	"testing"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/stretchr/testify/require"
)

// newNOR returns a simulated NOR chip (W25Q512JV, 4 KiB erase) of size bytes.
func newNOR(t testing.TB, size int64) *sim.Flash {
	t.Helper()
	p, err := sim.LookupPart("w25q512jv")
	require.NoError(t, err)
	f, err := sim.New(sim.Options{Part: p, Size: size, Name: "primary"})
	require.NoError(t, err)
	return f
}

// newNAND returns a simulated NAND chip (128 KiB erase, 2 KiB pages).
func newNAND(t testing.TB, size int64) *sim.Flash {
	t.Helper()
	p, err := sim.LookupPart("mt29f2g01")
	require.NoError(t, err)
	f, err := sim.New(sim.Options{Part: p, Size: size, Name: "nand"})
	require.NoError(t, err)
	return f
}

func stats(t testing.TB, f hal.Flash) hal.Stats {
	t.Helper()
	s, ok := hal.StatsOf(f)
	require.True(t, ok)
	return s
}
