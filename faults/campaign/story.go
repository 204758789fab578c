package campaign

import (
	"context"
	"fmt"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// Story is what replaying one case showed: the round's outcome and
// events, the wait-response the engine measured and the one the oracle
// measured from the injector's answers, every rule of the schedules with
// the operations it acted at (or that it never matched), the recovery's
// events, and every invariant's verdict.
type Story struct {
	Replay string `json:"replay"`
	// Round is the round's report (the engine's own account).
	Round engine.RoundReport `json:"round"`
	// RoundOps is how many flash operations the round issued (to the
	// power cut, if one came).
	RoundOps int `json:"round_ops"`
	// RoundEvents and RecoveryEvents are the events the engine reported
	// in the round and in the recovery the oracle ran after it.
	RoundEvents    []engine.Event `json:"round_events"`
	RecoveryEvents []engine.Event `json:"recovery_events"`
	// Wait is the oracle's longest wait of the primary ("" if the primary
	// answered every request correctly in time), FailoverDue whether it
	// exceeded the threshold.
	Wait        string `json:"wait,omitempty"`
	FailoverDue bool   `json:"failover_due"`
	// Rules says, for every rule of the case's schedules, where it acted.
	Rules []RuleStory `json:"rules"`
	// Damage lists what the harness damaged behind the engine's back.
	Damage   []string  `json:"damage,omitempty"`
	Verdicts []Verdict `json:"verdicts"`
}

// RuleStory is one rule of a case and the operations it acted at.
type RuleStory struct {
	Phase string `json:"phase"` // before, round or recovery
	Rule  string `json:"rule"`
	// Matched counts the operations its predicate matched; Fired lists
	// those where its action acted (an outcome action acts only where no
	// earlier rule's outcome did), at most the first and last few.
	Matched int      `json:"matched"`
	Fired   []string `json:"fired,omitempty"`
	FiredN  int      `json:"fired_count"`
}

// NeverMatched reports whether the rule matched no operation of its phase.
func (r RuleStory) NeverMatched() bool { return r.Matched == 0 }

// ReplayStory runs one case as Replay does and tells its story.
func ReplayStory(ctx context.Context, c Case) (*Story, error) {
	if sc, err := LookupScenario(c.Scenario); err == nil && sc.Lifecycle {
		return replayLifecycle(ctx, c, sc)
	}
	b, err := loadBench(ctx, c.Scenario, c.Seed, c.Mutant)
	if err != nil {
		return nil, err
	}
	w, err := newWorker(b)
	if err != nil {
		return nil, err
	}
	w.story = &Story{Replay: c.String()}
	r, err := w.replay(ctx, c)
	if err != nil {
		return nil, err
	}
	w.story.Verdicts = r.verdicts
	return w.story, nil
}

// tellPhase adds the rules of phase's schedule s to the story, from the
// operations the phase traced (ops) and the actions its injector fired.
func (st *Story) tellPhase(phase string, s faults.Schedule, ops []faults.Op, fired []faults.Fired) {
	for _, r := range s.Rules {
		rs := RuleStory{Phase: phase, Rule: r.String()}
		for _, op := range ops {
			if r.When.Match(op) {
				rs.Matched++
			}
		}
		for _, f := range fired {
			if f.Action == r.Do && r.When.Match(f.Op) {
				rs.FiredN++
				if rs.FiredN <= 3 {
					rs.Fired = append(rs.Fired, f.String())
				}
			}
		}
		if rs.FiredN > 3 {
			rs.Fired = append(rs.Fired, fmt.Sprintf("... %d more", rs.FiredN-3))
		}
		st.Rules = append(st.Rules, rs)
	}
}
