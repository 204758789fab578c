package store

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
)

// geometryOf is a device that reports another geometry than the one it
// has: a driver (or an image file's spec) that gets it wrong.
type geometryOf struct {
	hal.Flash
	g hal.Geometry
}

func (f geometryOf) Geometry() hal.Geometry { return f.g }

// TestOpenRefusesARangeThatDoesNotFit: Open checks the range against the
// device's geometry before it reads anything, and refuses with an error
// (never a panic, never a read) a range outside the device, not
// erase-aligned, empty, or on a device that reports no erase size.
func TestOpenRefusesARangeThatDoesNotFit(t *testing.T) {
	f, _ := newStore(t)
	g := f.Geometry()
	e := g.EraseSize
	for _, tc := range []struct {
		name      string
		g         func(hal.Geometry) hal.Geometry
		off, size int64
	}{
		{"erase size 0", func(g hal.Geometry) hal.Geometry { g.EraseSize = 0; return g }, 0, 4 * e},
		{"negative erase size", func(g hal.Geometry) hal.Geometry { g.EraseSize = -e; return g }, 0, 4 * e},
		{"negative offset", nil, -e, 4 * e},
		{"empty range", nil, 0, 0},
		{"past the end", nil, g.Size - e, 2 * e},
		{"not erase-aligned", nil, e / 2, 4 * e},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dev := hal.Flash(f)
			if tc.g != nil {
				dev = geometryOf{f, tc.g(g)}
			}
			before := f.Stats()
			require.NotPanics(t, func() {
				_, err := Open(dev, tc.off, tc.size, Options{ReadOnly: true})
				require.ErrorContains(t, err, "does not fit")
			})
			require.Zero(t, f.Stats().Sub(before).Reads, "nothing read")
		})
	}
}
