package guest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sim"
)

// newChip returns an in-memory simulated chip of part, size bytes (0: the
// part's size).
func newChip(t *testing.T, part string, size int64) *sim.Flash {
	t.Helper()
	p, err := sim.LookupPart(part)
	require.NoError(t, err)
	f, err := sim.New(sim.Options{Part: p, Size: size})
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}
