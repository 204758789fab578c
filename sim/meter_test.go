package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A Metered device charges its clock exactly what a simulated chip charges
// for the same operations, and shows only the simulated size.
func TestMeteredChargesAsTheSimulator(t *testing.T) {
	for _, part := range []string{"mx66l1g45g", "mt29f2g01"} {
		t.Run(part, func(t *testing.T) {
			p, err := LookupPart(part)
			require.NoError(t, err)
			es := p.EraseSize
			ref, err := New(Options{Part: p, Size: 64 * es, Clock: NewClock(time.Unix(0, 0))})
			require.NoError(t, err)
			dev, err := New(Options{Part: p, Size: 128 * es, Clock: NewClock(time.Unix(0, 0))})
			require.NoError(t, err)
			clock := NewClock(time.Unix(0, 0))
			m, err := NewMetered(dev, Options{Part: p, Size: 64 * es, Clock: clock})
			require.NoError(t, err)
			require.Equal(t, 64*es, m.Geometry().Size)
			page := make([]byte, p.PageSize)
			for i := range page {
				page[i] = byte(i)
			}
			do := func(f interface {
				ReadAt([]byte, int64) (int, error)
				WriteAt([]byte, int64) (int, error)
				Erase(int64, int64) error
			}) {
				require.NoError(t, f.Erase(2*es, 2*es))
				_, err := f.WriteAt(page, 2*es)
				require.NoError(t, err)
				_, err = f.WriteAt(page, 2*es+p.PageSize)
				require.NoError(t, err)
				_, err = f.ReadAt(make([]byte, 3*es+7), 5)
				require.NoError(t, err)
			}
			do(ref)
			do(m)
			require.Equal(t, ref.Clock().Elapsed(), clock.Elapsed())
			require.NotZero(t, clock.Elapsed())
			// Past the simulated size: refused, nothing charged.
			before := clock.Elapsed()
			_, err = m.ReadAt(make([]byte, 1), 64*es)
			require.Error(t, err)
			require.Equal(t, before, clock.Elapsed())
		})
	}
}
