package campaign

import "fmt"

// Invariant names, in the order of docs/DESIGN.md, Invariants.
const (
	Atomic         = "atomic"
	Durable        = "durable"
	Purged         = "purged"
	Reinit         = "reinit"
	Failover       = "failover"
	PrimaryIntact  = "primary-untouched"
	Live           = "live"
	BoundedWear    = "bounded-wear"
	InterruptBound = "interrupt-bound"
	BoundedCost    = "bounded-cost"
	Policy         = "writer-policy"
)

// Invariants lists the eleven invariants in order.
func Invariants() []string {
	return []string{Atomic, Durable, Purged, Reinit, Failover, PrimaryIntact, Live, BoundedWear, InterruptBound, BoundedCost, Policy}
}

// Verdict is what the oracle saw for one invariant of one run. A skipped
// verdict (the invariant was not checked for this run; Saw says why) is OK
// and counts in no report's checks.
type Verdict struct {
	Invariant string `json:"invariant"`
	OK        bool   `json:"ok"`
	Skipped   bool   `json:"skipped,omitempty"`
	Saw       string `json:"saw"`
}

// String formats "ok   atomic: ..." or "FAIL purged: ...".
func (v Verdict) String() string {
	s := "ok  "
	if !v.OK {
		s = "FAIL"
	}
	return fmt.Sprintf("%s %-17s %s", s, v.Invariant, v.Saw)
}

// verdicts collects one verdict per invariant; the first failure of an
// invariant wins over later passes.
type verdicts map[string]Verdict

func (vs verdicts) set(v Verdict) {
	if old, ok := vs[v.Invariant]; ok && !old.OK {
		return
	}
	vs[v.Invariant] = v
}

func (vs verdicts) ok(inv, format string, a ...any) {
	vs.set(Verdict{Invariant: inv, OK: true, Saw: fmt.Sprintf(format, a...)})
}

func (vs verdicts) fail(inv, format string, a ...any) {
	vs.set(Verdict{Invariant: inv, OK: false, Saw: fmt.Sprintf(format, a...)})
}

// skip records that inv was not checked, unless a verdict is set already.
func (vs verdicts) skip(inv, why string) {
	if _, ok := vs[inv]; !ok {
		vs[inv] = skipped(inv, why)
	}
}

func skipped(inv, why string) Verdict {
	return Verdict{Invariant: inv, OK: true, Skipped: true, Saw: "not checked: " + why}
}

// list returns the verdicts set, in invariant order.
func (vs verdicts) list() []Verdict {
	var out []Verdict
	for _, inv := range Invariants() {
		if v, ok := vs[inv]; ok {
			out = append(out, v)
		}
	}
	return out
}

// all returns the verdicts in invariant order; invariants not reached are
// reported as skipped.
func (vs verdicts) all() []Verdict {
	var out []Verdict
	for _, inv := range Invariants() {
		v, ok := vs[inv]
		if !ok {
			v = skipped(inv, "an earlier step failed")
		}
		out = append(out, v)
	}
	return out
}
