package store

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTypeMetaChunkCountBound: a type meta's chunk count is refused as
// damage above 2^26 (docs/FORMAT.md, type meta), and 2^26 itself
// decodes: the bound is inclusive.
func TestTypeMetaChunkCountBound(t *testing.T) {
	for _, tc := range []struct {
		n  int
		ok bool
	}{
		{1, true},
		{1 << 26, true},
		{1<<26 + 1, false},
	} {
		var e enc
		e.typeMeta(&TypeState{Type: minInfoType, Size: 1}, tc.n)
		d := dec{buf: e.buf}
		_, n := d.typeMeta()
		if tc.ok {
			require.False(t, d.bad, "%d chunks: %v", tc.n, d.err)
			require.Equal(t, tc.n, n)
		} else {
			require.True(t, d.bad, "%d chunks", tc.n)
			require.ErrorContains(t, d.err, "chunks")
		}
	}
}
