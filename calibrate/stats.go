package calibrate

import (
	"slices"
	"time"

	"github.com/cmcsync/cmcsync/sim"
)

// Stats summarise the timed samples of one kind of operation.
type Stats struct {
	Count                      int
	Min, P10, Median, P90, Max time.Duration
	Mean                       time.Duration
}

// Summarize returns the statistics of samples. Percentiles interpolate
// linearly between the two nearest ranks (the median of an even count is
// the mean of the middle two). No samples: the zero Stats.
func Summarize(samples []time.Duration) Stats {
	if len(samples) == 0 {
		return Stats{}
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	var sum float64
	for _, d := range s {
		sum += float64(d)
	}
	return Stats{Count: len(s), Min: s[0], P10: percentile(s, 0.1), Median: percentile(s, 0.5),
		P90: percentile(s, 0.9), Max: s[len(s)-1], Mean: min(max(time.Duration(sum/float64(len(s))), s[0]), s[len(s)-1])}
}

// percentile returns the q-quantile of sorted, interpolated.
func percentile(sorted []time.Duration, q float64) time.Duration {
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	frac := pos - float64(i)
	return sorted[i] + time.Duration(frac*float64(sorted[i+1]-sorted[i]))
}

// measurement is s as a profile's raw statistics.
func (s Stats) measurement(op string, bytes int64) sim.Measurement {
	sec := func(d time.Duration) float64 { return float64(d) / 1e9 }
	return sim.Measurement{Op: op, Bytes: bytes, Count: s.Count, MinSeconds: sec(s.Min), P10Seconds: sec(s.P10),
		MedianSeconds: sec(s.Median), P90Seconds: sec(s.P90), MaxSeconds: sec(s.Max), MeanSeconds: sec(s.Mean)}
}
