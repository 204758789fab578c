package campaign

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// shardReport is the report of shard k/n of one small random campaign, as
// a run would write it: a point per shard, one check, and a violation on
// shard 1 when withViolation.
func shardReport(k, n int) Report {
	return Report{Mode: "random", Scenario: "small", Seed: 1, Mutant: "none", Count: 200,
		Shards: []string{Shard{k, n}.String()}, Workers: 1, RoundOps: 40,
		Schedules: 10 + k, FaultPoints: 10 + k, TornVariants: k, LiveRounds: 1,
		Checks: map[string]int{"durable": 10 + k}, Violations: []Violation{}, WallSeconds: float64(k + 1), CPUSeconds: 1}
}

func TestMergeAddsUpACompleteSplit(t *testing.T) {
	parts := []Report{shardReport(2, 3), shardReport(0, 3), shardReport(1, 3)}
	parts[0].Violations = []Violation{{Replay: "z", Invariant: "durable"}}
	parts[2].Violations = []Violation{{Replay: "a", Invariant: "live"}}
	parts[0].ViolationsTotal, parts[2].ViolationsTotal = 1, 1
	m, err := Merge(parts...)
	require.NoError(t, err)
	require.Equal(t, []string{"0/3", "1/3", "2/3"}, m.Shards, "by index")
	require.Equal(t, 33, m.FaultPoints)
	require.Equal(t, 3, m.TornVariants)
	require.Equal(t, map[string]int{"durable": 33}, m.Checks)
	require.Equal(t, 2, m.ViolationsTotal)
	require.Equal(t, []Violation{{Replay: "a", Invariant: "live"}, {Replay: "z", Invariant: "durable"}}, m.Violations, "sorted by replay line")
	require.Equal(t, 3.0, m.WallSeconds, "the longest shard")
	require.Empty(t, m.MissingShards())
}

// TestMergeShardsByIndexNotText: shard 10/12 comes after 2/12.
func TestMergeShardsByIndexNotText(t *testing.T) {
	var parts []Report
	for k := 11; k >= 0; k-- {
		parts = append(parts, shardReport(k, 12))
	}
	m, err := Merge(parts...)
	require.NoError(t, err)
	require.Equal(t, "2/12", m.Shards[2])
	require.Equal(t, "10/12", m.Shards[10])
}

func TestMergeRefuses(t *testing.T) {
	other := func(change func(*Report)) Report {
		r := shardReport(1, 2)
		change(&r)
		return r
	}
	for _, tc := range []struct {
		name    string
		reports []Report
		want    error
		says    string
	}{
		{"no reports", nil, ErrMerge, "no reports"},
		{"duplicate shard", []Report{shardReport(0, 2), shardReport(1, 2), shardReport(0, 2)}, ErrDuplicateShard, "shard 0/2 is in report 1 and in report 3"},
		{"duplicate inside a merged report", []Report{{Mode: "random", Scenario: "small", Seed: 1, Mutant: "none", Count: 200, Shards: []string{"0/2", "0/2"}}}, ErrDuplicateShard, "shard 0/2"},
		{"other mode", []Report{shardReport(0, 2), other(func(r *Report) { r.Mode = "exhaustive" })}, ErrOtherCampaign, "report 2 is exhaustive"},
		{"other scenario", []Report{shardReport(0, 2), other(func(r *Report) { r.Scenario = "standard" })}, ErrOtherCampaign, "random standard"},
		{"other seed", []Report{shardReport(0, 2), other(func(r *Report) { r.Seed = 2 })}, ErrOtherCampaign, "seed=2"},
		{"other mutant", []Report{shardReport(0, 2), other(func(r *Report) { r.Mutant = "no-purge" })}, ErrOtherCampaign, "mutant=no-purge"},
		{"other depth", []Report{shardReport(0, 2), other(func(r *Report) { r.Depth = 2 })}, ErrOtherCampaign, "depth=2"},
		{"other count", []Report{shardReport(0, 2), other(func(r *Report) { r.Count = 300 })}, ErrOtherCampaign, "count=300"},
		{"other round", []Report{shardReport(0, 2), other(func(r *Report) { r.RoundOps = 41 })}, ErrOtherCampaign, "round of 41 operations"},
		{"other split", []Report{shardReport(0, 2), shardReport(1, 3)}, ErrOtherCampaign, "shard 1/3 of a 3-way split, report 1 a 2-way split"},
		{"bad shard", []Report{shardReport(0, 2), other(func(r *Report) { r.Shards = []string{"1of2"} })}, ErrMerge, `report 2: bad shard "1of2"`},
		{"no shard", []Report{other(func(r *Report) { r.Shards = nil })}, ErrMerge, "name no shard"},
		{"missing shard", []Report{shardReport(0, 4), shardReport(2, 4)}, ErrMissingShards, "1/4, 3/4 of 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Merge(tc.reports...)
			require.ErrorIs(t, err, tc.want)
			require.ErrorIs(t, err, ErrMerge)
			require.ErrorContains(t, err, tc.says)
		})
	}
}

// TestMergeMissingKeepsWhatThePresentShardsFound: a missing shard is an
// error, and the merge of the shards given comes with it.
func TestMergeMissingKeepsWhatThePresentShardsFound(t *testing.T) {
	found := shardReport(2, 4)
	found.ViolationsTotal, found.Violations = 1, []Violation{{Replay: "r", Invariant: "durable"}}
	m, err := Merge(shardReport(0, 4), found)
	require.ErrorIs(t, err, ErrMissingShards)
	require.Equal(t, []string{"0/4", "2/4"}, m.Shards)
	require.Equal(t, []string{"1/4", "3/4"}, m.MissingShards())
	require.Equal(t, 1, m.ViolationsTotal)
	require.Equal(t, found.Violations, m.Violations)
}

func TestFindReport(t *testing.T) {
	var buf bytes.Buffer
	want := shardReport(1, 2)
	require.NoError(t, want.WriteJSON(&buf))
	report := buf.String()
	progress := "campaign: random small mutant=none shard 1/2: 5/10 schedules (50%) after 0.1s\n"
	for _, tc := range []struct {
		name, output string
		ok           bool
	}{
		{"the JSON alone", report, true},
		{"a container log", progress + progress + report + "cmcsync: campaign: 1 violation(s) found\n", true},
		{"compact, no final newline", `{"mode":"random","scenario":"small","seed":1,"mutant":"none","count":200,"shards":["1/2"],"workers":1,"round_ops":40,"schedules":11,"fault_points":11,"torn_variants":1,"recovery_points":0,"live_rounds":1,"checks":{"durable":11},"violations_total":0,"violations":[],"points_per_second":0,"wall_seconds":2,"setup_seconds":0,"cpu_seconds":1,"points_per_cpu_second":0}`, true},
		{"empty", "", false},
		{"progress only: the shard did not finish", progress + progress, false},
		{"cut off while writing", progress + report[:len(report)/2], false},
		{"two reports", report + report, false},
		{"JSON that is no report", `{"replay": "x", "verdicts": []}` + "\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := FindReport([]byte(tc.output))
			if !tc.ok {
				require.ErrorIs(t, err, ErrNoReport)
				return
			}
			require.NoError(t, err)
			require.Equal(t, want, r)
		})
	}
}

// FuzzFindReport: FindReport never panics, and a report it finds is found
// again, unchanged, when written out amid other lines.
func FuzzFindReport(f *testing.F) {
	var buf bytes.Buffer
	r := shardReport(0, 2)
	if err := r.WriteJSON(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("campaign: progress\n" + buf.String() + "cmcsync: done\n"))
	f.Add([]byte("{\n{\"mode\":\"x\",\"shards\":[\"0/1\"]}"))
	f.Fuzz(func(t *testing.T, output []byte) {
		r, err := FindReport(output)
		if err != nil {
			return
		}
		require.NotEmpty(t, r.Mode)
		require.NotEmpty(t, r.Shards)
		var again bytes.Buffer
		require.NoError(t, r.WriteJSON(&again))
		r2, err := FindReport([]byte(fmt.Sprintf("progress\n%s\nexit\n", again.Bytes())))
		require.NoError(t, err)
		require.Equal(t, r, r2)
	})
}
