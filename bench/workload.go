package bench

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/cmcsim"
)

// Workload is what happens to the primary's information region between two
// syncs. Exactly one of Activity and Fraction is set.
type Workload struct {
	// Name is stable and appears in rows, plots and benchmark names:
	// "cmc-10m", "clustered-1pct", "scattered-0.1pct".
	Name string
	// Activity: each round follows this much CMC activity, applied with
	// cmcsim.Generator.Step (event and fault logs append, fan and power
	// readings move, node and asset information change now and then).
	Activity time.Duration
	// Fraction of the region's payload bytes changed before the round, by
	// cmcsim.Generator.Mutate; Clustered picks contiguous runs (256 B to
	// 16 KiB) instead of single bytes spread uniformly.
	Fraction  float64
	Clustered bool
	// Rounds is how many change-then-sync rounds are measured (≥ 1); the
	// row's figures are per round, its wear over all of them.
	Rounds int
	// Filling starts from a just-populated region, its log rings 80% full,
	// so new entries land in erased space; otherwise the start state is a
	// CMC that has run for two days, its rings full and wrapping.
	Filling bool
}

// seed derives the workload's generator seed from the run's seed and the
// workload's name, so a workload changes the region the same way whatever
// other workloads run with it.
func (w Workload) seed(runSeed uint64) uint64 {
	h := fnv.New64a()
	h.Write([]byte(w.Name))
	return runSeed ^ h.Sum64()
}

// Realistic reports whether w is CMC activity rather than a synthetic change set.
func (w Workload) Realistic() bool { return w.Activity > 0 }

// Validate reports whether w is well formed.
func (w Workload) Validate() error {
	switch {
	case w.Name == "":
		return fmt.Errorf("workload without a name")
	case w.Rounds < 1:
		return fmt.Errorf("workload %s: rounds %d, want at least 1", w.Name, w.Rounds)
	case (w.Activity > 0) == (w.Fraction > 0):
		return fmt.Errorf("workload %s: set exactly one of activity and fraction", w.Name)
	case w.Fraction < 0 || w.Fraction > 1:
		return fmt.Errorf("workload %s: fraction %v is not in (0, 1]", w.Name, w.Fraction)
	}
	return nil
}

// Synthetic returns the synthetic workload changing pct percent of the
// payload bytes, clustered or scattered, named "clustered-1pct" and so on.
// Small change sets (up to 1%) run four rounds, so that a strategy that
// erases ahead of need (one block erase serving several rounds) is
// measured over more than one round; larger ones run one.
func Synthetic(pct float64, clustered bool) Workload {
	pattern := "scattered"
	if clustered {
		pattern = "clustered"
	}
	rounds := 1
	if pct <= 1 {
		rounds = 4
	}
	return Workload{Name: fmt.Sprintf("%s-%spct", pattern, strconv.FormatFloat(pct, 'f', -1, 64)),
		Fraction: pct / 100, Clustered: clustered, Rounds: rounds}
}

// Activity returns the realistic workload of d of CMC activity per round,
// named "cmc-10m", "cmc-1h" and so on.
func Activity(d time.Duration, rounds int) Workload {
	name := d.String()
	switch {
	case d%time.Hour == 0:
		name = fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		name = fmt.Sprintf("%dm", d/time.Minute)
	}
	return Workload{Name: "cmc-" + name, Activity: d, Rounds: rounds}
}

// Filling returns w starting from the just-populated region (see
// Workload.Filling), named with a "-filling" suffix.
func Filling(w Workload) Workload {
	w.Filling = true
	w.Name += "-filling"
	return w
}

// DefaultWorkloads returns the standard set: CMC activity of 1 minute, one
// sync interval (cmcsim.TypicalInterval, 10 minutes) and 1 hour between
// syncs on a CMC that has run for two days, three rounds each; one sync
// interval of activity while the logs are still filling; and synthetic
// changes of 0.1%, 1%, 10% and 100% of the payload bytes, clustered and
// scattered.
func DefaultWorkloads() []Workload {
	ws := []Workload{
		Activity(time.Minute, 3),
		Activity(cmcsim.TypicalInterval, 3),
		Activity(time.Hour, 3),
		Filling(Activity(cmcsim.TypicalInterval, 3)),
	}
	for _, clustered := range []bool{true, false} {
		for _, pct := range []float64{0.1, 1, 10, 100} {
			ws = append(ws, Synthetic(pct, clustered))
		}
	}
	return ws
}

// QuickWorkloads is a small set for --quick and tests: one sync interval of
// activity (day-old and filling), and 1% and 10% clustered and 1%
// scattered changes.
func QuickWorkloads() []Workload {
	return []Workload{Activity(cmcsim.TypicalInterval, 2), Filling(Activity(cmcsim.TypicalInterval, 2)), Synthetic(1, true), Synthetic(10, true), Synthetic(1, false)}
}

// LookupWorkloads returns the default workloads with the given names.
func LookupWorkloads(names []string) ([]Workload, error) {
	all := DefaultWorkloads()
	var out []Workload
	for _, n := range names {
		i := slices.IndexFunc(all, func(w Workload) bool { return w.Name == n })
		if i < 0 {
			known := make([]string, len(all))
			for j, w := range all {
				known[j] = w.Name
			}
			return nil, fmt.Errorf("unknown workload %q (known: %s)", n, strings.Join(known, ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}
