package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults/campaign"
	"github.com/cmcsync/cmcsync/internal/jsonout"
)

func TestCampaignListMutants(t *testing.T) {
	out, _, err := runCmd("campaign", "--list-mutants")
	require.NoError(t, err)
	for _, name := range []string{"no-purge", "commit-before-durable", "no-crc-check", "reinit-in-flight", "threshold-ignored", "primary-written"} {
		require.Contains(t, out, name)
	}
}

func TestCampaignBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--mode", "sideways"}, {"--depth", "3"}, {"--mutant", "nope"}, {"--scenario", "huge"},
		{"--shard", "2/2"}, {"--replay", "not a line"}, {"extra"}, {"merge"},
		// A replay line that parses but names no scenario, and an empty
		// one (a shell variable that expanded to nothing): bad input, not
		// a failure, nor a whole campaign run instead.
		{"--replay", "nosuch seed=1 mutant=none | (seed 1) | none"},
		{"--replay", ""}, {"--replay", "  "},
		// Negative and zero counts: refused, not run as the default.
		{"--mode", "random", "--count", "-5"}, {"--mode", "random", "--count", "0"},
		{"--workers", "-1"}, {"--live-every", "0"}, {"--keep", "-1"}, {"--stop-after", "-1"},
		// A flag of the other mode: refused, not silently ignored.
		{"--count", "5"}, {"--mode", "exhaustive", "--count", "5"}, {"--mode", "random", "--depth", "2"},
	} {
		_, _, err := runCmd("campaign", args...)
		require.Equal(t, 2, statusOf(err), "%v: %v", args, err)
	}
}

// TestCampaignBadValueNamesItsFlag: a value a user mistyped is named by
// its flag, so the user knows which to fix (--scenario's said only "bad
// campaign options: unknown scenario").
func TestCampaignBadValueNamesItsFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--scenario", "smal"}, `campaign: --scenario: unknown scenario "smal" (want one of `},
		{[]string{"--mode", "exhaustiv"}, `campaign: --mode: `},
		{[]string{"--mutant", "no-purg"}, `campaign: --mutant: unknown mutant "no-purg"`},
	} {
		_, _, err := runCmd("campaign", tc.args...)
		code, msg := exitOf(t, err)
		require.Equal(t, 2, code, msg)
		require.Contains(t, msg, tc.want)
	}
}

func TestShardFromEnvironment(t *testing.T) {
	env := map[string]string{"JOB_COMPLETION_INDEX": "3", "CMCSYNC_SHARDS": "8"}
	sh, err := shardFrom("", func(k string) string { return env[k] })
	require.NoError(t, err)
	require.Equal(t, campaign.Shard{Index: 3, Count: 8}, sh)
	sh, err = shardFrom("1/2", func(k string) string { return env[k] })
	require.NoError(t, err)
	require.Equal(t, campaign.Shard{Index: 1, Count: 2}, sh, "the flag wins")
	sh, err = shardFrom("", func(string) string { return "" })
	require.NoError(t, err)
	require.Equal(t, campaign.Shard{Index: 0, Count: 1}, sh)
	for _, bad := range []map[string]string{
		{"CMCSYNC_SHARDS": "x"},
		{"JOB_COMPLETION_INDEX": "3"}, // what a Job that forgot CMCSYNC_SHARDS gives
		{"CMCSYNC_SHARDS": "8"},
		{"JOB_COMPLETION_INDEX": "8", "CMCSYNC_SHARDS": "8"},
		{"JOB_COMPLETION_INDEX": "1", "CMCSYNC_SHARDS": "two"},
		{"JOB_COMPLETION_INDEX": "3", "JOB_COMPLETIONS": "8"}, // Kubernetes sets no JOB_COMPLETIONS: not read
	} {
		_, err = shardFrom("", func(k string) string { return bad[k] })
		require.Error(t, err, "%v", bad)
		require.ErrorContains(t, err, "CMCSYNC_SHARDS", "%v", bad)
	}
}

// TestCampaignShardsAndMerge: JSON shard reports merge into the whole
// campaign; a campaign exits 1 exactly when it found violations (today's
// engine fails the cases listed in
// faults/campaign/testdata/known-violations.txt).
func TestCampaignShardsAndMerge(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	total := 0
	for _, sh := range []string{"0/2", "1/2"} {
		out, _, err := runCmd("campaign", "--scenario", "small", "--json", "--keep", "10000", "--shard", sh)
		var r campaign.Report
		require.NoError(t, json.Unmarshal([]byte(out), &r))
		require.Equal(t, map[bool]int{false: 0, true: 1}[r.ViolationsTotal > 0], statusOf(err))
		require.Greater(t, r.FaultPoints, 0)
		total += r.ViolationsTotal
		p := filepath.Join(dir, "shard"+sh[:1]+".json")
		require.NoError(t, os.WriteFile(p, []byte(out), 0o644))
		paths = append(paths, p)
	}
	out, _, err := runCmd("campaign", append([]string{"merge"}, paths...)...)
	require.Equal(t, map[bool]int{false: 0, true: 1}[total > 0], statusOf(err))
	require.Contains(t, out, "shards 0/2,1/2")
	require.Contains(t, out, fmt.Sprintf("violations: %d\n", total))
	out, _, err = runCmd("campaign", "merge", paths[0])
	require.Equal(t, map[bool]int{false: 3, true: 1}[total > 0], statusOf(err), "a missing shard fails the merge")
	require.ErrorContains(t, err, "1/2")
	require.Contains(t, out, "shards 0/2", "the merge of the shards given is printed")
}

// TestCampaignReplayTellsTheStory: --replay prints the round's outcome,
// the waits, where each rule acted, a rule that never matched, and the
// events; --self-test catches every wrong state.
func TestCampaignReplayTellsTheStory(t *testing.T) {
	out, _, err := runCmd("campaign", "--replay", "small seed=1 mutant=none | (on (and primary read (after 30)) (fail timeout)) (on (at 99999) cut) | none")
	require.NoError(t, err, out)
	for _, want := range []string{
		"round: failover, generation 2",
		"wait-response 2.00",
		"the oracle's longest wait of the primary: from #",
		"failover due",
		"(on (and primary read (after 30)) (fail timeout)): acted at",
		"(on (at 99999) cut): NEVER MATCHED an operation",
		"events in the round:",
		"failover       gen=2",
		"ok   failover",
	} {
		require.Contains(t, out, want)
	}
	out, _, err = runCmd("campaign", "--replay", "small seed=1 mutant=none | (on (at 5) cut) | none", "--json")
	require.NoError(t, err)
	// The story follows the JSON convention (it printed the round's
	// durations in nanoseconds, "duration" and "wait_response").
	require.NoError(t, jsonout.Check([]byte(out)), out)
	requireSchema(t, "campaign-replay", out)
	var st storyResult
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	require.Len(t, st.Verdicts, len(campaign.Invariants()))
	require.Equal(t, 1, st.Rules[0].FiredN)

	out, _, err = runCmd("campaign", "--self-test", "--scenario", "small")
	require.NoError(t, err, out)
	require.NotContains(t, out, "NOT CAUGHT")
	for _, inv := range campaign.Invariants() {
		require.Contains(t, out, "caught     "+inv)
	}
}

// TestCampaignMutantExitsNonZeroAndReplays: a mutant campaign fails with
// a replay line that --replay reproduces.
func TestCampaignMutantExitsNonZeroAndReplays(t *testing.T) {
	out, _, err := runCmd("campaign", "--scenario", "small", "--mutant", "no-purge", "--stop-after", "1")
	require.Equal(t, 1, statusOf(err), "out: %s", out)
	m := regexp.MustCompile(`VIOLATION (\S+): .*\n  replay: cmcsync campaign --replay '([^']+)'`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	rout, _, err := runCmd("campaign", "--replay", m[2])
	require.Equal(t, 1, statusOf(err), rout)
	require.Regexp(t, `FAIL `+regexp.QuoteMeta(m[1]), rout)
	require.Contains(t, rout, "replay: "+m[2])
}
