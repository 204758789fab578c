package campaign

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Violation is one broken invariant with the line that replays it.
type Violation struct {
	Replay    string `json:"replay"`
	Invariant string `json:"invariant"`
	Detail    string `json:"detail"`
}

// Shard selects every point whose index i satisfies i % Count == Index
// (0 <= Index < Count); its text is "K/N" (Index/Count).
type Shard struct{ Index, Count int }

// String returns "K/N".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Has reports whether point i belongs to the shard.
func (s Shard) Has(i int) bool { return s.Count <= 1 || i%s.Count == s.Index }

// ParseShard reads "K/N" with 0 <= K < N.
func ParseShard(text string) (Shard, error) {
	k, n, ok := strings.Cut(text, "/")
	ki, err1 := strconv.Atoi(k)
	ni, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || ni < 1 || ki < 0 || ki >= ni {
		return Shard{}, fmt.Errorf("bad shard %q: want K/N with 0 <= K < N, e.g. 0/4", text)
	}
	return Shard{ki, ni}, nil
}

// Report is what a campaign (or one shard of it) found. Merge combines the
// reports of a campaign's shards.
type Report struct {
	Mode     string   `json:"mode"`
	Scenario string   `json:"scenario"`
	Seed     uint64   `json:"seed"`
	Mutant   string   `json:"mutant"`
	Depth    int      `json:"depth,omitempty"`
	Count    int      `json:"count,omitempty"`
	Shards   []string `json:"shards"`
	Workers  int      `json:"workers"`

	// RoundOps is the number of flash operations in the recorded round.
	RoundOps int `json:"round_ops,omitempty"`
	// Schedules is the number of schedules run (each with its recovery
	// and oracle). FaultPoints is the number of fault points verified: one
	// per schedule (a depth-2 schedule adds one cut in the recovery to a
	// round cut already counted). TornVariants is how many of them were
	// torn operations rather than clean cuts, RecoveryPoints how many were
	// in a recovery.
	Schedules      int `json:"schedules"`
	FaultPoints    int `json:"fault_points"`
	TornVariants   int `json:"torn_variants"`
	RecoveryPoints int `json:"recovery_points"`
	// Kinds counts the fault points by kind (exhaustive mode: cut, torn,
	// anomaly, silent-erase, weak, primary-corrupt, slow-probe,
	// primary-dies, backup-damage; "recovery-" before the kind of the
	// round's point for the cuts in its recovery at depth 2; random mode:
	// random).
	Kinds map[string]int `json:"kinds,omitempty"`
	// LiveRounds is how many live rounds (the live invariant) really ran:
	// a point whose recovered chips hold the same contents as an earlier
	// point's on the same worker (and the same engine configuration and
	// generation) reuses that verdict, so with several workers the count
	// depends on how the points fell to them.
	LiveRounds int `json:"live_rounds"`
	// Checks counts, per invariant, the schedules where it was checked.
	Checks map[string]int `json:"checks"`

	// ViolationsTotal counts every violation; Violations lists the first
	// ones (see Options.KeepViolations), sorted by replay line.
	ViolationsTotal int         `json:"violations_total"`
	Violations      []Violation `json:"violations"`
	PointsPerSecond float64     `json:"points_per_second"`
	WallSeconds     float64     `json:"wall_seconds"`
	// SetupSeconds is the one-time setup (first sync, recorded round).
	SetupSeconds float64 `json:"setup_seconds"`
	// CPUSeconds is the process CPU time the points took (Linux; 0
	// elsewhere) and PointsPerCPUSecond the rate per CPU second: on a
	// shared machine it says what the campaign costs, whatever the load.
	CPUSeconds         float64 `json:"cpu_seconds"`
	PointsPerCPUSecond float64 `json:"points_per_cpu_second"`
}

// OK reports whether no violation was found.
func (r *Report) OK() bool { return r.ViolationsTotal == 0 && len(r.Violations) == 0 }

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// ReadReport reads a JSON report file.
func ReadReport(path string) (Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Report{}, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return Report{}, fmt.Errorf("%s: not a campaign report: %w", path, err)
	}
	if r.Mode == "" || len(r.Shards) == 0 {
		return Report{}, fmt.Errorf("%s: not a campaign report (no mode or shards)", path)
	}
	return r, nil
}

// ErrMerge is wrapped by Merge's errors.
var ErrMerge = errors.New("cannot merge reports")

// Merge combines the reports of one campaign's shards: counts and
// violations add up, the wall time is the longest shard's (shards run side
// by side) and the rate is the total points over that time. The reports
// must agree on mode, scenario, seed, mutant, depth and count, and must not
// repeat a shard.
func Merge(reports ...Report) (Report, error) {
	if len(reports) == 0 {
		return Report{}, fmt.Errorf("%w: no reports", ErrMerge)
	}
	out := Report{Mode: reports[0].Mode, Scenario: reports[0].Scenario, Seed: reports[0].Seed,
		Mutant: reports[0].Mutant, Depth: reports[0].Depth, Count: reports[0].Count,
		RoundOps: reports[0].RoundOps, Checks: map[string]int{}, Violations: []Violation{}}
	seen := map[string]bool{}
	for i, r := range reports {
		if r.Mode != out.Mode || r.Scenario != out.Scenario || r.Seed != out.Seed || r.Mutant != out.Mutant ||
			r.Depth != out.Depth || r.Count != out.Count {
			return Report{}, fmt.Errorf("%w: report %d is of another campaign (%s %s seed=%d mutant=%s depth=%d count=%d, want %s %s seed=%d mutant=%s depth=%d count=%d)",
				ErrMerge, i+1, r.Mode, r.Scenario, r.Seed, r.Mutant, r.Depth, r.Count,
				out.Mode, out.Scenario, out.Seed, out.Mutant, out.Depth, out.Count)
		}
		for _, s := range r.Shards {
			if seen[s] {
				return Report{}, fmt.Errorf("%w: shard %s appears twice", ErrMerge, s)
			}
			seen[s] = true
			out.Shards = append(out.Shards, s)
		}
		out.Workers += r.Workers
		out.Schedules += r.Schedules
		out.FaultPoints += r.FaultPoints
		out.TornVariants += r.TornVariants
		out.RecoveryPoints += r.RecoveryPoints
		out.LiveRounds += r.LiveRounds
		for k, v := range r.Checks {
			out.Checks[k] += v
		}
		out.Violations = append(out.Violations, r.Violations...)
		out.ViolationsTotal += r.ViolationsTotal
		out.WallSeconds = max(out.WallSeconds, r.WallSeconds)
		out.CPUSeconds += r.CPUSeconds
	}
	if out.CPUSeconds > 0 {
		out.PointsPerCPUSecond = float64(out.FaultPoints) / out.CPUSeconds
	}
	sort.Strings(out.Shards)
	if out.WallSeconds > 0 {
		out.PointsPerSecond = float64(out.FaultPoints) / out.WallSeconds
	}
	return out, nil
}

// MissingShards lists the shards of an N-way split that the report lacks,
// when all its shards are of one N; nil if complete or mixed.
func (r *Report) MissingShards() []string {
	n := -1
	have := map[int]bool{}
	for _, s := range r.Shards {
		sh, err := ParseShard(s)
		if err != nil || (n >= 0 && sh.Count != n) {
			return nil
		}
		n = sh.Count
		have[sh.Index] = true
	}
	var miss []string
	for k := 0; k < n; k++ {
		if !have[k] {
			miss = append(miss, Shard{k, n}.String())
		}
	}
	return miss
}
