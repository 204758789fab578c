package calibrate

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
)

func TestSummarize(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		samples []time.Duration
		want    Stats
	}{
		{"none", nil, Stats{}},
		{"one", ms(5), Stats{Count: 1, Min: 5e6, P10: 5e6, Median: 5e6, P90: 5e6, Max: 5e6, Mean: 5e6}},
		{"even count: median between the middle two", ms(4, 1, 3, 2), Stats{Count: 4, Min: 1e6, P10: 1.3e6, Median: 2.5e6, P90: 3.7e6, Max: 4e6, Mean: 2.5e6}},
		{"eleven, a tail", ms(10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 120),
			Stats{Count: 11, Min: 10e6, P10: 10e6, Median: 10e6, P90: 10e6, Max: 120e6, Mean: 20e6}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, Summarize(tc.samples))
		})
	}
}

// TestFitReads: the fit recovers an exact bus model, on NOR (two
// unknowns) and NAND (three), and falls back when reads do not grow.
func TestFitReads(t *testing.T) {
	shape := func(bytes, pages int64, d time.Duration) ReadShape {
		return ReadShape{Bytes: bytes, Pages: pages, Stats: Stats{Median: d}}
	}
	nor := func(n int64) time.Duration { return 960 + time.Duration(n*40) }
	var norShapes []ReadShape
	for _, n := range []int64{16, 256, 1024, 4096, 65536} {
		norShapes = append(norShapes, shape(n, (n+255)/256, nor(n)))
	}
	f := fitReads(hal.NOR, norShapes)
	require.Empty(t, f.Fallback)
	require.InDelta(t, 25e6, f.BytesPerSec, 1)
	require.InDelta(t, 960, float64(f.CommandOverhead), 1)
	require.Zero(t, f.PageRead)

	nand := func(n, pages int64) time.Duration {
		return 1280 + time.Duration(pages)*25*time.Microsecond + time.Duration(n*40)
	}
	var nandShapes []ReadShape
	for _, s := range [][2]int64{{16, 1}, {2048, 1}, {4096, 2}, {8192, 4}, {131072, 64}} {
		nandShapes = append(nandShapes, shape(s[0], s[1], nand(s[0], s[1])))
	}
	f = fitReads(hal.NAND, nandShapes)
	require.InDelta(t, 25e6, f.BytesPerSec, 1)
	require.InDelta(t, 1280, float64(f.CommandOverhead), 1)
	require.InDelta(t, 25000, float64(f.PageRead), 1)

	flat := []ReadShape{shape(16, 1, 50*time.Microsecond), shape(4096, 16, 50*time.Microsecond)}
	f = fitReads(hal.NOR, flat)
	require.Contains(t, f.Fallback, "do not grow")
	require.InDelta(t, 4096/50e-6, f.BytesPerSec, 1)
}

func TestLeastSquaresSingular(t *testing.T) {
	_, ok := leastSquares([][]float64{{1, 2}, {2, 4}}, []float64{1, 2})
	require.False(t, ok)
	_, ok = leastSquares([][]float64{{1, 0}, {1, 0}}, []float64{1, 2})
	require.False(t, ok)
	_, ok = leastSquares(nil, nil)
	require.False(t, ok)
	x, ok := leastSquares([][]float64{{1, 1}, {1, 2}, {1, 3}}, []float64{3, 5, 7})
	require.True(t, ok)
	require.InDeltaSlice(t, []float64{1, 2}, x, 1e-9)
}

func TestProfileName(t *testing.T) {
	require.Equal(t, "mtd6", profileName("mtd6"))
	require.Equal(t, "flash-1-", profileName("Flash 1!"))
	require.Equal(t, "device", profileName(""))
	require.Len(t, profileName("a123456789012345678901234567890123456789012345"), 40)
}
