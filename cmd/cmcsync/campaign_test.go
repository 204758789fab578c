package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults/campaign"
)

func runCampaignCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"campaign"}, args...), &out, &errOut)
	return out.String(), errOut.String(), err
}

func campaignExit(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if err != nil {
		return 1
	}
	return 0
}

func TestCampaignListMutants(t *testing.T) {
	out, _, err := runCampaignCmd(t, "--list-mutants")
	require.NoError(t, err)
	for _, name := range []string{"no-purge", "commit-before-durable", "no-crc-check", "reinit-in-flight", "threshold-ignored", "primary-written"} {
		require.Contains(t, out, name)
	}
}

func TestCampaignBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--mode", "sideways"}, {"--depth", "3"}, {"--mutant", "nope"}, {"--scenario", "huge"},
		{"--shard", "2/2"}, {"--replay", "not a line"}, {"extra"}, {"merge"},
	} {
		_, _, err := runCampaignCmd(t, args...)
		require.Equal(t, 2, campaignExit(err), "%v: %v", args, err)
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

// TestCampaignCleanShardsAndMerge: the real engine passes; JSON shard
// reports merge into the whole campaign.
func TestCampaignCleanShardsAndMerge(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for _, sh := range []string{"0/2", "1/2"} {
		out, _, err := runCampaignCmd(t, "--scenario", "small", "--json", "--shard", sh)
		require.NoError(t, err)
		var r campaign.Report
		require.NoError(t, json.Unmarshal([]byte(out), &r))
		require.Zero(t, r.ViolationsTotal)
		require.Greater(t, r.FaultPoints, 0)
		p := filepath.Join(dir, "shard"+sh[:1]+".json")
		require.NoError(t, os.WriteFile(p, []byte(out), 0o644))
		paths = append(paths, p)
	}
	out, errOut, err := runCampaignCmd(t, append([]string{"merge"}, paths...)...)
	require.NoError(t, err, errOut)
	require.Contains(t, out, "shards 0/2,1/2")
	require.Contains(t, out, "violations: 0")
	out, _, err = runCampaignCmd(t, "merge", paths[0])
	require.Equal(t, 3, campaignExit(err), "a missing shard fails the merge")
	require.ErrorContains(t, err, "shards missing: 1/2 of 2")
	require.Contains(t, out, "shards 0/2", "the merge of the shards given is printed")
}

// TestCampaignMutantExitsNonZeroAndReplays: a mutant campaign fails with
// a replay line that --replay reproduces.
func TestCampaignMutantExitsNonZeroAndReplays(t *testing.T) {
	out, _, err := runCampaignCmd(t, "--scenario", "small", "--mutant", "no-purge", "--stop-after", "1")
	require.Equal(t, 1, campaignExit(err), "out: %s", out)
	m := regexp.MustCompile(`VIOLATION (\S+): .*\n  replay: cmcsync campaign --replay '([^']+)'`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	rout, _, err := runCampaignCmd(t, "--replay", m[2])
	require.Equal(t, 1, campaignExit(err), rout)
	require.Regexp(t, `FAIL `+regexp.QuoteMeta(m[1]), rout)
	require.Contains(t, rout, "replay: "+m[2])
}
