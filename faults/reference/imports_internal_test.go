package reference

import (
	"go/build"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIndependentOfTheStore: the decoder shares no code with the code it
// checks — it imports nothing of sync/ (tests may, to produce stores).
func TestIndependentOfTheStore(t *testing.T) {
	p, err := build.ImportDir(".", 0)
	require.NoError(t, err)
	for _, imp := range p.Imports {
		require.False(t, strings.HasPrefix(imp, "github.com/cmcsync/cmcsync/sync"), "the decoder imports %s", imp)
	}
}
