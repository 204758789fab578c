package guest

import (
	"testing"

	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
)

// newChip returns an in-memory simulated chip of part, size bytes (0: the
// part's size).
func newChip(t *testing.T, part string, size int64) *sim.Flash {
	t.Helper()
	f := simtest.Chip(t, part, sim.Options{Size: size})
	t.Cleanup(func() { f.Close() })
	return f
}
