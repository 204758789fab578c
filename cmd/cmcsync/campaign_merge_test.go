package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults/campaign"
)

// writeShardOutput writes what shard k/n of a small random campaign prints
// with --json, after the given change, wrapped in progress lines when asLog
// (a pod's kubectl logs), and returns its path.
func writeShardOutput(t *testing.T, dir string, k, n int, asLog bool, change func(*campaign.Report)) string {
	t.Helper()
	r := campaign.Report{Mode: "random", Scenario: "small", Seed: 1, Mutant: "none", Count: 200,
		Shards: []string{campaign.Shard{Index: k, Count: n}.String()}, Workers: 1, RoundOps: 40,
		Schedules: 10, FaultPoints: 10, Checks: map[string]int{"durable": 10}, Violations: []campaign.Violation{}}
	if change != nil {
		change(&r)
	}
	var buf bytes.Buffer
	if asLog {
		buf.WriteString("campaign: random small mutant=none shard " + r.Shards[0] + ": 10/10 schedules (100%) after 0.1s\n")
	}
	require.NoError(t, r.WriteJSON(&buf))
	f, err := os.CreateTemp(dir, "shard-*.out")
	require.NoError(t, err)
	_, err = f.Write(buf.Bytes())
	require.NoError(t, err)
	require.NoError(t, f.Close())
	return f.Name()
}

// TestCampaignMergeExitStatus: merge fails, with a message that says why,
// on a missing, duplicate or mismatched shard, and on an output without a
// report; it reads pod logs as well as bare reports.
func TestCampaignMergeExitStatus(t *testing.T) {
	violation := func(r *campaign.Report) {
		r.ViolationsTotal, r.Violations = 1, []campaign.Violation{{Replay: "small seed=1 mutant=none | x | none", Invariant: "durable"}}
	}
	type shard struct {
		k, n   int
		asLog  bool
		change func(*campaign.Report)
	}
	for _, tc := range []struct {
		name   string
		shards []shard
		exit   int
		says   string
	}{
		{"complete", []shard{{0, 2, false, nil}, {1, 2, false, nil}}, 0, ""},
		{"complete, from pod logs", []shard{{0, 2, true, nil}, {1, 2, true, nil}}, 0, ""},
		{"violations", []shard{{0, 2, false, nil}, {1, 2, false, violation}}, 1, "1 violation(s) found"},
		{"missing shard", []shard{{0, 3, false, nil}, {2, 3, true, nil}}, 3, "shards missing: 1/3 of 3"},
		{"missing shard and violations", []shard{{0, 3, false, violation}}, 1, "1 violation(s) found; and cannot merge reports: shards missing: 1/3, 2/3 of 3"},
		{"duplicate shard", []shard{{0, 2, false, nil}, {1, 2, false, nil}, {1, 2, true, nil}}, 2, "shard 1/2 is in report 2 and in report 3"},
		{"other seed", []shard{{0, 2, false, nil}, {1, 2, false, func(r *campaign.Report) { r.Seed = 7 }}}, 2, "seed=7"},
		{"other mutant", []shard{{0, 2, false, nil}, {1, 2, false, func(r *campaign.Report) { r.Mutant = "no-purge" }}}, 2, "mutant=no-purge"},
		{"other split", []shard{{0, 2, false, nil}, {1, 3, false, nil}}, 2, "3-way split"},
		{"no report in an output", []shard{{0, 2, false, nil}, {1, 2, false, func(r *campaign.Report) { r.Mode = "" }}}, 2, "no JSON report in it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"merge"}
			for _, s := range tc.shards {
				args = append(args, writeShardOutput(t, dir, s.k, s.n, s.asLog, s.change))
			}
			out, _, err := runCmd("campaign", args...)
			require.Equal(t, tc.exit, statusOf(err), "err %v\nout %s", err, out)
			if tc.exit != 0 {
				require.ErrorContains(t, err, tc.says)
			}
			if tc.exit == 0 || tc.exit == 1 {
				require.Contains(t, out, "violations: ")
			}
		})
	}
}
