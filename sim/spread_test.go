package sim

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// spreadChip is a 1 MiB chip of part with the timing spread on.
func spreadChip(t *testing.T, part string, seed uint64) *Flash {
	t.Helper()
	f, err := New(Options{Part: mustPart(t, part), Size: 1 << 20, Spread: true, Seed: seed})
	require.NoError(t, err)
	return f
}

// pageProgramTimes programs n pages (erasing as needed) and returns each
// page program's array time: its elapsed time less the command and the
// bus transfer.
func pageProgramTimes(t *testing.T, f *Flash, n int) []time.Duration {
	t.Helper()
	p := f.Part()
	data := make([]byte, p.PageSize)
	var out []time.Duration
	for i := 0; len(out) < n; i++ {
		off := (int64(i) * p.PageSize) % f.Geometry().Size
		if off%f.Geometry().EraseSize == 0 {
			require.NoError(t, f.Erase(off, f.Geometry().EraseSize))
		}
		before := f.Stats().Elapsed
		_, err := f.WriteAt(data, off)
		require.NoError(t, err)
		out = append(out, f.Stats().Elapsed-before-p.Typical.CommandOverhead-f.busTime(p.PageSize))
	}
	return out
}

func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

// TestSpreadDistribution: with the spread on, page programs centre on the
// typical figure (median within 1%), 80% of them within 10% of it, none
// above the maximum, and a tail reaches well above typical.
func TestSpreadDistribution(t *testing.T) {
	for _, name := range []string{norName, "mx66l1g45g", nandName} {
		t.Run(name, func(t *testing.T) {
			f := spreadChip(t, name, 7)
			p := f.Part()
			got := pageProgramTimes(t, f, 4000)
			typ, maxTime := p.Typical.PageProgram, p.Max.PageProgram
			med := quantile(got, 0.5)
			require.InEpsilon(t, float64(typ), float64(med), 0.01, "median %v, typical %v", med, typ)
			require.Greater(t, quantile(got, 0.1), typ*90/100)
			require.Less(t, quantile(got, 0.9), typ*110/100)
			require.LessOrEqual(t, slices.Max(got), maxTime)
			require.Greater(t, slices.Max(got), typ*3/2, "the tail reaches toward the maximum")
			require.Less(t, slices.Min(got), typ, "some operations are faster than typical")
		})
	}
}

// TestSpreadDeterministic: the same seed and operations give the same
// times; another seed gives others; without the spread every program
// costs the typical figure exactly.
func TestSpreadDeterministic(t *testing.T) {
	run := func(seed uint64) []time.Duration { return pageProgramTimes(t, spreadChip(t, norName, seed), 200) }
	require.Equal(t, run(3), run(3))
	require.NotEqual(t, run(3), run(4))

	plain := newChip(t, norName, 1<<20)
	for _, d := range pageProgramTimes(t, plain, 50) {
		require.Equal(t, plain.Part().Typical.PageProgram, d)
	}
}

// TestSpreadOnlyArrayTimes: erases spread per erase unit, NAND page reads
// per page, while a NOR read (command and bus only) does not spread.
func TestSpreadOnlyArrayTimes(t *testing.T) {
	f := spreadChip(t, norName, 1)
	p := f.Part()
	for range 20 {
		before := f.Stats().Elapsed
		_, err := f.ReadAt(make([]byte, 4096), 0)
		require.NoError(t, err)
		require.Equal(t, p.Typical.CommandOverhead+f.busTime(4096), f.Stats().Elapsed-before)
	}
	var erases []time.Duration
	for range 200 {
		before := f.Stats().Elapsed
		require.NoError(t, f.Erase(0, 4096))
		erases = append(erases, f.Stats().Elapsed-before-p.Typical.CommandOverhead)
	}
	require.InEpsilon(t, float64(p.Typical.SectorErase), float64(quantile(erases, 0.5)), 0.02)
	require.NotEqual(t, slices.Min(erases), slices.Max(erases))

	n := spreadChip(t, nandName, 1)
	np := n.Part()
	var reads []time.Duration
	for range 200 {
		before := n.Stats().Elapsed
		_, err := n.ReadAt(make([]byte, np.PageSize), 0)
		require.NoError(t, err)
		reads = append(reads, n.Stats().Elapsed-before-np.Typical.CommandOverhead-n.busTime(np.PageSize))
	}
	require.InEpsilon(t, float64(np.Typical.PageRead), float64(quantile(reads, 0.5)), 0.02)
	require.LessOrEqual(t, slices.Max(reads), np.Max.PageRead)
}

func TestSpreadWithMaxTimingRefused(t *testing.T) {
	_, err := New(Options{Part: mustPart(t, norName), Spread: true, MaxTiming: true})
	require.ErrorContains(t, err, "choose one")
}
