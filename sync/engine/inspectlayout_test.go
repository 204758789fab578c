package engine

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestInspectReadsTheImageHeaderOnlyWithAnImageArea: Inspect reads the
// cmcsync image header only when the layout has an image area; with a
// real chip's layout (ImageSize 0, NewLayout) it reports no image and no
// image error, even where the chip's offset 0 holds a valid header, and
// the same information region and store.
func TestInspectReadsTheImageHeaderOnlyWithAnImageArea(t *testing.T) {
	p := committedPair(t, DefaultConfig())
	l := p.opts.Layout
	require.Positive(t, l.ImageSize)
	for _, chip := range []int{0, 1} {
		f := p.chipA
		if chip == 1 {
			f = p.chipB
		}
		with := Inspect(f, l, false)
		require.NotNil(t, with.Image, "chip %d", chip)
		require.Empty(t, with.ImageError, "chip %d", chip)

		chipLayout, err := NewLayout(f.Geometry(), l.InfoOff, l.InfoSize, l.StoreOff, l.StoreSize)
		require.NoError(t, err)
		require.Zero(t, chipLayout.ImageSize)
		without := Inspect(f, chipLayout, false)
		require.Nil(t, without.Image, "chip %d", chip)
		require.Empty(t, without.ImageError, "chip %d", chip)
		require.Equal(t, chipLayout, without.Layout)
		require.Equal(t, with.Info, without.Info, "chip %d", chip)
		require.Equal(t, with.InfoError, without.InfoError, "chip %d", chip)
		require.Equal(t, with.Store, without.Store, "chip %d", chip)
		require.Equal(t, with.StoreError, without.StoreError, "chip %d", chip)
	}
}
