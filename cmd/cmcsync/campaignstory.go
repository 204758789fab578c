package main

import (
	"github.com/cmcsync/cmcsync/faults/campaign"
	"github.com/cmcsync/cmcsync/internal/jsonout"
)

// storyResult is campaign --replay --json's output (docs/JSON.md): the
// replay's story in the program's JSON convention (the round as sync
// --json reports it, durations in float seconds, events always an array).
type storyResult struct {
	Replay         string          `json:"replay"`
	Round          jsonout.Round   `json:"round"`
	RoundOps       int             `json:"round_ops"`
	RoundEvents    []jsonout.Event `json:"round_events"`
	RecoveryEvents []jsonout.Event `json:"recovery_events"`
	// SlowestAnswer is the oracle's longest wait of the primary, as text
	// (left out when the primary answered every request correctly in
	// time); FailoverDue whether it exceeded the threshold.
	SlowestAnswer string               `json:"slowest_answer,omitempty"`
	FailoverDue   bool                 `json:"failover_due"`
	Rules         []campaign.RuleStory `json:"rules"`
	Damage        []string             `json:"damage,omitempty"`
	Verdicts      []campaign.Verdict   `json:"verdicts"`
}

// fromStory converts a replay's story.
func fromStory(st *campaign.Story) storyResult {
	rules := st.Rules
	if rules == nil {
		rules = []campaign.RuleStory{}
	}
	return storyResult{Replay: st.Replay, Round: jsonout.FromRound(st.Round), RoundOps: st.RoundOps,
		RoundEvents: jsonout.FromEvents(st.RoundEvents), RecoveryEvents: jsonout.FromEvents(st.RecoveryEvents),
		SlowestAnswer: st.Wait, FailoverDue: st.FailoverDue, Rules: rules, Damage: st.Damage, Verdicts: st.Verdicts}
}
