package cmcsim

import (
	"testing"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/stretchr/testify/require"
)

// newChip returns a simulated chip of the given part and size.
func newChip(t testing.TB, part string, size int64) *sim.Flash {
	t.Helper()
	return simtest.Chip(t, part, sim.Options{Size: size, Name: "primary"})
}

// newRegion formats and opens a region of size bytes at offset 0 of a fresh
// simulated NOR chip (W25Q512JV, 4 KiB erase).
func newRegion(t testing.TB, size int64) (*info.Region, hal.Flash) {
	t.Helper()
	return regionOn(t, newChip(t, "w25q512jv", size))
}

// regionOn formats and opens a region covering all of f.
func regionOn(t testing.TB, f hal.Flash) (*info.Region, hal.Flash) {
	t.Helper()
	size := f.Geometry().Size
	require.NoError(t, info.FormatRegion(f, 0, size))
	r, err := info.OpenRegion(f, 0, size)
	require.NoError(t, err)
	return r, f
}

func stats(t testing.TB, f hal.Flash) hal.Stats {
	t.Helper()
	s, ok := hal.StatsOf(f)
	require.True(t, ok)
	return s
}

// payloads reads every type's payload.
func payloads(t testing.TB, r *info.Region) map[info.Type][]byte {
	t.Helper()
	out := map[info.Type][]byte{}
	for _, ty := range info.All() {
		rec, err := r.Read(ty)
		require.NoError(t, err, ty)
		out[ty] = rec.Payload
	}
	return out
}

// changed counts the payload bytes that differ (bytes past the shorter
// payload count as changed) and the total payload bytes before.
func changed(before, after map[info.Type][]byte) (diff, total int64) {
	for _, ty := range info.All() {
		a, b := before[ty], after[ty]
		total += int64(len(a))
		for i := 0; i < max(len(a), len(b)); i++ {
			if i >= len(a) || i >= len(b) || a[i] != b[i] {
				diff++
			}
		}
	}
	return diff, total
}

// countRuns counts maximal runs of changed bytes.
func countRuns(before, after map[info.Type][]byte) int64 {
	var runs int64
	for _, ty := range info.All() {
		a, b := before[ty], after[ty]
		in := false
		for i := range a {
			d := a[i] != b[i]
			if d && !in {
				runs++
			}
			in = d
		}
	}
	return runs
}
