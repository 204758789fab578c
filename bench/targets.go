package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"github.com/cmcsync/cmcsync/sim"
)

// Target limits (see Judge).
const (
	// floorFactor is how far above the physical floor the engine may be,
	// before the commit record's allowance.
	floorFactor = 1.25
	// copySpeedup is how many times less device time the engine must take
	// than a full flashcp copy and than flashcp -p on target (c)'s rows.
	copySpeedup = 10
)

// Target is one performance target judged on one erase model's engine rows.
// A target compares, row by row, a value of the engine with a bound the
// row allows; its worst row is the one with the highest value/bound.
type Target struct {
	ID         string `json:"id"` // "a" to "d"
	Name       string `json:"name"`
	EraseModel string `json:"erase_model"`
	// Gated targets (the 4k erase model, the one the project's kernel
	// uses) fail cmcsync bench --check when missed or not measured; the
	// 64k ones are reported only.
	Gated bool `json:"gated"`
	Met   bool `json:"met"`
	Rows  int  `json:"rows"` // engine rows judged (0: not measured)
	// Worst is the worst row's value/bound: the target is met when it is
	// at most 1 on every row.
	Worst float64 `json:"worst"`
	Where string  `json:"where"` // the worst row's scenario (Row.Key)
	// Value and Bound are the worst row's measured value and what the
	// target allows there, in Unit: engine seconds for (a) to (d), a
	// ratio (most-erased block / mean) for (e). JSON writes them as
	// value_seconds and bound_seconds, or value_ratio and bound_ratio.
	Value  float64 `json:"-"`
	Bound  float64 `json:"-"`
	Unit   string  `json:"unit"`   // UnitSeconds or UnitRatio
	Detail string  `json:"detail"` // human summary
}

// Units of Target.Value and Target.Bound.
const (
	UnitSeconds = "seconds"
	UnitRatio   = "ratio"
)

// targetJSON is Target as JSON: the value and bound under a key that
// names their unit (the project's JSON convention: durations as
// *_seconds).
type targetJSON struct {
	targetFields
	ValueSeconds *float64 `json:"value_seconds,omitempty"`
	BoundSeconds *float64 `json:"bound_seconds,omitempty"`
	ValueRatio   *float64 `json:"value_ratio,omitempty"`
	BoundRatio   *float64 `json:"bound_ratio,omitempty"`
	Status       string   `json:"status"`
}

// targetFields has Target's fields without its methods (so that
// targetJSON does not inherit MarshalJSON).
type targetFields Target

// MarshalJSON writes t with its value and bound keyed by unit and its
// Status.
func (t Target) MarshalJSON() ([]byte, error) {
	j := targetJSON{targetFields: targetFields(t), Status: t.Status()}
	v, b := t.Value, t.Bound
	if t.Unit == UnitRatio {
		j.ValueRatio, j.BoundRatio = &v, &b
	} else {
		j.ValueSeconds, j.BoundSeconds = &v, &b
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (t *Target) UnmarshalJSON(data []byte) error {
	var j targetJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*t = Target(j.targetFields)
	for _, p := range []struct {
		dst *float64
		src *float64
	}{{&t.Value, j.ValueSeconds}, {&t.Bound, j.BoundSeconds}, {&t.Value, j.ValueRatio}, {&t.Bound, j.BoundRatio}} {
		if p.src != nil {
			*p.dst = *p.src
		}
	}
	return nil
}

// targetRule is a target's definition: which engine rows it judges and,
// for each, the engine's value and the row's bound (ok false: the row is
// not judged).
type targetRule struct {
	id, name string
	judge    func(rows []Row, e Row) (value, bound float64, ok bool)
}

// peerSeconds returns the least DeviceSeconds of the peers in e's
// scenario that ran, and whether all of them did.
func peerSeconds(rows []Row, e Row, peers ...string) (float64, bool) {
	least := math.Inf(1)
	for _, s := range peers {
		r, ok := find(rows, e.Key(), s)
		if !ok || r.DeviceSeconds <= 0 {
			return 0, false
		}
		least = min(least, r.DeviceSeconds)
	}
	return least, true
}

// targetRules are the targets, in order:
//
//	(a) engine LatencySeconds ≤ 1.25 × PhysicalFloorLatencySeconds + one
//	    commit record (CommitRecordSeconds), on every row;
//	(b) engine DeviceSeconds ≤ 1.25 × PhysicalFloorSeconds + one commit
//	    record, on every row;
//	(c) on scattered-1pct, 8 MiB, typical timing: engine DeviceSeconds at
//	    least 10 times below both a full flashcp copy's and flashcp -p's;
//	(d) engine DeviceSeconds never above flashcp -p's or flashrom's, on
//	    every row.
var targetRules = []targetRule{
	{"a", "engine latency ≤ 1.25× physical floor latency + one commit record", func(_ []Row, e Row) (float64, float64, bool) {
		return e.LatencySeconds, floorFactor*e.PhysicalFloorLatencySeconds + e.CommitRecordSeconds, true
	}},
	{"b", "engine device time ≤ 1.25× physical floor + one commit record", func(_ []Row, e Row) (float64, float64, bool) {
		return e.DeviceSeconds, floorFactor*e.PhysicalFloorSeconds + e.CommitRecordSeconds, true
	}},
	{"c", "engine ≥ 10× below flashcp and flashcp -p, scattered-1pct, 8 MiB, typical", func(rows []Row, e Row) (float64, float64, bool) {
		if e.Workload != "scattered-1pct" || e.RegionSize != 8<<20 || e.Timing != "typical" {
			return 0, 0, false
		}
		peer, ok := peerSeconds(rows, e, StrategyFullCopy, StrategyBlockDiff)
		return e.DeviceSeconds, peer / copySpeedup, ok
	}},
	{"d", "engine never slower than flashcp -p or flashrom", func(rows []Row, e Row) (float64, float64, bool) {
		peer, ok := peerSeconds(rows, e, StrategyBlockDiff, StrategyFlashrom)
		return e.DeviceSeconds, peer, ok
	}},
}

// Judge evaluates the targets (targetRules) on the engine rows, once per
// erase model: gated for 4k, reported for 64k.
func Judge(rows []Row) []Target {
	var out []Target
	for _, em := range sim.EraseModels() {
		for _, rule := range targetRules {
			t := Target{ID: rule.id, Name: rule.name, EraseModel: em.String(), Gated: em == sim.Erase4K, Unit: UnitSeconds}
			for _, e := range rows {
				if e.Strategy != StrategyEngine || e.EraseModel != t.EraseModel {
					continue
				}
				value, bound, ok := rule.judge(rows, e)
				if !ok {
					continue
				}
				ratio := math.Inf(1)
				if bound > 0 {
					ratio = value / bound
				}
				t.Rows++
				if t.Rows == 1 || ratio > t.Worst {
					t.Worst, t.Where, t.Value, t.Bound = ratio, e.Key(), value, bound
				}
			}
			t.Met = t.Rows > 0 && t.Worst <= 1
			if t.Rows == 0 {
				t.Detail = "not measured (no matching rows)"
			} else {
				t.Detail = fmt.Sprintf("worst %.2f× the bound at %s (engine %s s, bound %s s) over %d rows",
					t.Worst, t.Where, sig(t.Value), sig(t.Bound), t.Rows)
			}
			out = append(out, t)
		}
	}
	return out
}

// Status is "met", "MISSED" or "n/a" for a gated target, "met", "missed"
// or "n/a" for a reported one.
func (t Target) Status() string {
	switch {
	case t.Rows == 0:
		return "n/a"
	case t.Met:
		return "met"
	case t.Gated:
		return "MISSED"
	}
	return "missed"
}

// Line formats t for the table and cmcsync bench --check:
// "target MISSED (a) [4k] NAME: DETAIL"; a target that is reported, not
// gated, starts with "report".
func (t Target) Line() string {
	kind, scope := "target", t.EraseModel
	if !t.Gated {
		kind, scope = "report", t.EraseModel+", not gated"
	}
	return fmt.Sprintf("%s %-6s (%s) [%s] %s: %s", kind, t.Status(), t.ID, scope, t.Name, t.Detail)
}

// Failed returns the gated targets that are missed or not measured: what
// makes cmcsync bench --check fail.
func (r *Report) Failed() []Target {
	var out []Target
	for _, t := range r.Targets {
		if t.Gated && !t.Met {
			out = append(out, t)
		}
	}
	return out
}

// WriteTargets writes the targets as a table of their worst rows: the
// target, its erase model, whether it is gated, its status, the worst row,
// the value measured there, the bound, their unit, value/bound and the
// number of rows judged.
func (r *Report) WriteTargets(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "target\terase\tgated\tstatus\tworst row\tmeasured\tbound\tunit\t×bound\trows")
	for _, t := range r.Targets {
		gated := "no"
		if t.Gated {
			gated = "yes"
		}
		where := t.Where
		if where == "" {
			where = "-"
		}
		fmt.Fprintf(tw, "(%s)\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", t.ID, t.EraseModel, gated, t.Status(), where,
			sig(t.Value), sig(t.Bound), t.Unit, sig(t.Worst), t.Rows)
	}
	return tw.Flush()
}
