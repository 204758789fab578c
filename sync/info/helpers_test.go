package info

import (
	"testing"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
	"github.com/stretchr/testify/require"
)

// newNOR returns a simulated NOR chip (W25Q512JV, 4 KiB erase) of size bytes.
func newNOR(t testing.TB, size int64) *sim.Flash {
	t.Helper()
	return simtest.Chip(t, "w25q512jv", sim.Options{Size: size, Name: "primary"})
}

// newNAND returns a simulated NAND chip (128 KiB erase, 2 KiB pages).
func newNAND(t testing.TB, size int64) *sim.Flash {
	t.Helper()
	return simtest.Chip(t, "mt29f2g01", sim.Options{Size: size, Name: "nand"})
}

func stats(t testing.TB, f hal.Flash) hal.Stats {
	t.Helper()
	s, ok := hal.StatsOf(f)
	require.True(t, ok)
	return s
}

// formatted formats the region [off, off+size) of f and opens it.
func formatted(t testing.TB, f hal.Flash, off, size int64) *Region {
	t.Helper()
	require.NoError(t, FormatRegion(f, off, size))
	r, err := OpenRegion(f, off, size)
	require.NoError(t, err)
	return r
}
