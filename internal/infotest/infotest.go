// Package infotest sets up information regions for tests: formatted and
// opened, and, where a test wants a CMC's contents, populated by the
// synthetic generator (package cmcsim). Each helper fails the test
// (require) on an error.
package infotest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/info"
)

// Region formats the information region [off, off+size) of f and opens
// it.
func Region(t testing.TB, f hal.Flash, off, size int64) *info.Region {
	t.Helper()
	require.NoError(t, info.FormatRegion(f, off, size))
	r, err := info.OpenRegion(f, off, size)
	require.NoError(t, err)
	return r
}

// Populated is Region, then filled by the generator seeded seed
// (cmcsim.New(seed).Populate), which it returns to step the CMC further.
func Populated(t testing.TB, f hal.Flash, off, size int64, seed uint64) (*info.Region, *cmcsim.Generator) {
	t.Helper()
	r := Region(t, f, off, size)
	g := cmcsim.New(seed)
	require.NoError(t, g.Populate(r))
	return r, g
}
