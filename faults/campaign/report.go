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
	// point's of the same chunk of 16 consecutive points (and the same
	// engine configuration and generation) reuses that verdict. Chunks are
	// fixed by the points' order, so the count does not depend on the
	// number of workers.
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

// ErrMerge is wrapped by every error of Merge; the sentinels below say
// which merge went wrong.
var ErrMerge = errors.New("cannot merge reports")

// Why Merge refused, each wrapped together with [ErrMerge].
var (
	// ErrOtherCampaign: the reports are of different campaigns (mode,
	// scenario, seed, mutant, depth, count or recorded round differ) or of
	// different splits of one (shards K/N of different N).
	ErrOtherCampaign = errors.New("reports of different campaigns")
	// ErrDuplicateShard: two reports cover the same shard.
	ErrDuplicateShard = errors.New("shard given twice")
	// ErrMissingShards: no report covers some shard of the split.
	ErrMissingShards = errors.New("shards missing")
)

// Merge combines the reports of one campaign's shards: counts and
// violations add up (violations sorted by replay line, as one run sorts
// them), the wall time is the longest shard's (shards run side by side)
// and the rate is the total points over that time.
//
// The reports must agree on mode, scenario, seed, mutant, depth, count and
// the recorded round's length ([ErrOtherCampaign]), split the campaign the
// same number of ways, cover no shard twice ([ErrDuplicateShard]) and
// together cover every shard of the split ([ErrMissingShards]). A missing
// shard is the one error that still returns the merge of the reports
// given, so that a caller can show what the present shards found; its
// error names the missing shards. Every error wraps [ErrMerge].
func Merge(reports ...Report) (Report, error) {
	if len(reports) == 0 {
		return Report{}, fmt.Errorf("%w: no reports", ErrMerge)
	}
	first := reports[0]
	out := Report{Mode: first.Mode, Scenario: first.Scenario, Seed: first.Seed,
		Mutant: first.Mutant, Depth: first.Depth, Count: first.Count,
		RoundOps: first.RoundOps, Checks: map[string]int{}, Violations: []Violation{}}
	split := splitOf{}
	for i, r := range reports {
		if err := sameCampaign(first, r); err != nil {
			return Report{}, fmt.Errorf("%w: %w: report %d %v: merge the shards of one campaign only",
				ErrMerge, ErrOtherCampaign, i+1, err)
		}
		for _, s := range r.Shards {
			if err := split.add(s, i+1); err != nil {
				return Report{}, err
			}
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
	if split.count == 0 {
		return Report{}, fmt.Errorf("%w: the reports name no shard", ErrMerge)
	}
	sort.SliceStable(out.Violations, func(i, j int) bool { return out.Violations[i].Replay < out.Violations[j].Replay })
	if out.CPUSeconds > 0 {
		out.PointsPerCPUSecond = float64(out.FaultPoints) / out.CPUSeconds
	}
	if out.WallSeconds > 0 {
		out.PointsPerSecond = float64(out.FaultPoints) / out.WallSeconds
	}
	out.Shards = split.names()
	if miss := out.MissingShards(); len(miss) > 0 {
		return out, fmt.Errorf("%w: %w: %s of %d (no report covers them): run them (--shard K/N) and merge again",
			ErrMerge, ErrMissingShards, strings.Join(miss, ", "), split.count)
	}
	return out, nil
}

// sameCampaign says how r differs from first in what makes a campaign
// (nil if in nothing).
func sameCampaign(first, r Report) error {
	if r.Mode != first.Mode || r.Scenario != first.Scenario || r.Seed != first.Seed || r.Mutant != first.Mutant ||
		r.Depth != first.Depth || r.Count != first.Count {
		return fmt.Errorf("is %s, report 1 %s", campaignOf(r), campaignOf(first))
	}
	if r.RoundOps != first.RoundOps {
		return fmt.Errorf("recorded a round of %d operations, report 1 one of %d (built from other code?)", r.RoundOps, first.RoundOps)
	}
	return nil
}

// campaignOf names what makes r's campaign.
func campaignOf(r Report) string {
	return fmt.Sprintf("%s %s seed=%d mutant=%s depth=%d count=%d", r.Mode, r.Scenario, r.Seed, r.Mutant, r.Depth, r.Count)
}

// splitOf collects the shards of the reports being merged: one count N
// for all, each index once.
type splitOf struct {
	count     int         // N of the first shard (0 before it)
	countBy   int         // the report that set count
	coveredBy map[int]int // shard index -> report (1-based) that covers it
}

// add records shard text of report number report.
func (s *splitOf) add(text string, report int) error {
	sh, err := ParseShard(text)
	if err != nil {
		return fmt.Errorf("%w: report %d: %w", ErrMerge, report, err)
	}
	if s.count == 0 {
		s.count, s.countBy, s.coveredBy = sh.Count, report, map[int]int{}
	}
	if sh.Count != s.count {
		return fmt.Errorf("%w: %w: report %d has shard %v of a %d-way split, report %d a %d-way split: merge the shards of one split (one --shard N or CMCSYNC_SHARDS)",
			ErrMerge, ErrOtherCampaign, report, sh, sh.Count, s.countBy, s.count)
	}
	if by, dup := s.coveredBy[sh.Index]; dup {
		return fmt.Errorf("%w: %w: shard %v is in report %d and in report %d: give each shard's report once",
			ErrMerge, ErrDuplicateShard, sh, by, report)
	}
	s.coveredBy[sh.Index] = report
	return nil
}

// names returns the shards seen as "K/N", by index.
func (s *splitOf) names() []string {
	var names []string
	for k := 0; k < s.count; k++ {
		if _, ok := s.coveredBy[k]; ok {
			names = append(names, Shard{k, s.count}.String())
		}
	}
	return names
}

// MissingShards lists, by index, the shards of the report's N-way split
// that it does not cover (nil when it covers all). A report whose shards
// mix several N, or that has one that does not parse, is not a split
// [Merge] makes; MissingShards returns nil for it.
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
