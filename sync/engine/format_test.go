package engine

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
	"github.com/cmcsync/cmcsync/sync/info"
)

func TestFormatAndFill(t *testing.T) {
	part := simtest.Part(t, "mx66l1g45g")
	clock := simtest.NewClock()
	chips := func() (*sim.Flash, *sim.Flash) {
		return simtest.Pair(t, "mx66l1g45g", sim.Options{Size: 8 << 20, Clock: clock})
	}
	g := part.Geometry()
	g.Size = 8 << 20
	def, err := DefaultLayout(g, 0)
	require.NoError(t, err)
	custom, err := DefaultLayout(g, 1<<20)
	require.NoError(t, err)
	errFill := errors.New("fill failed")
	payload := []byte("filled")
	tests := []struct {
		name    string
		layout  Layout // opts.Layout
		fill    bool
		fillErr error
		want    Layout
		wantErr string
	}{
		{"default layout, no fill", Layout{}, false, nil, def, ""},
		{"default layout, fill", Layout{}, true, nil, def, ""},
		{"given layout, fill", custom, true, nil, custom, ""},
		{"fill fails", custom, true, errFill, Layout{}, "fill failed"},
		{"bad layout", Layout{InfoOff: 1}, true, nil, Layout{}, "format: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := chips()
			var fill func(*info.Region) error
			var filled *info.Region
			if tc.fill {
				fill = func(r *info.Region) error {
					filled = r
					if err := r.Write(info.Node, payload); err != nil {
						return err
					}
					return tc.fillErr
				}
			}
			l, err := FormatAndFill(a, b, Options{Clock: clock, Layout: tc.layout}, fill)
			require.Equal(t, tc.want, l)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				if tc.fillErr != nil {
					require.ErrorIs(t, err, tc.fillErr)
				}
				return
			}
			require.NoError(t, err)
			for _, chip := range []hal.Flash{a, b} { // both chips formatted
				_, err := info.ReadImageHeader(chip)
				require.NoError(t, err, chip.Geometry().Name)
			}
			r, err := info.OpenRegion(a, l.InfoOff, l.InfoSize)
			require.NoError(t, err)
			rec, err := r.Read(info.Node)
			require.NoError(t, err)
			if tc.fill {
				require.NotNil(t, filled)
				require.Equal(t, payload, rec.Payload, "fill wrote the primary's region at the layout")
			} else {
				require.Equal(t, info.Default(info.Node), rec.Payload)
			}
			rb, err := info.OpenRegion(b, l.InfoOff, l.InfoSize)
			require.NoError(t, err)
			recB, err := rb.Read(info.Node)
			require.NoError(t, err)
			require.Equal(t, info.Default(info.Node), recB.Payload, "the backup is not filled")
		})
	}
}
