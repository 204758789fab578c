package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/bench"
)

// small is a bench run of a few seconds.
var small = []string{"--parts", "w25q256jv", "--sizes", "1M", "--timings", "typical", "--workloads", "cmc-10m,clustered-1pct"}

func TestBenchJSON(t *testing.T) {
	dir := t.TempDir()
	out, errOut, err := runCmd("bench", append(small, "--json", "--out", dir)...)
	require.NoError(t, err, errOut)
	var rep bench.Report
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	require.NotEmpty(t, rep.Rows)
	for _, r := range rep.Rows {
		require.Equal(t, "w25q256jv", r.Part)
		require.Contains(t, []string{"cmc-10m", "clustered-1pct"}, r.Workload)
		require.GreaterOrEqual(t, r.DeviceSeconds, r.PagesProgrammed*r.PageProgramSeconds)
		require.Contains(t, []string{"4k", "64k"}, r.EraseModel)
	}
	for _, f := range []string{"report.json", "table.txt", "w25q256jv-typical-4k-1mib.png", "w25q256jv-typical-64k-1mib.svg"} {
		st, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, f)
		require.Positive(t, st.Size(), f)
	}
	require.Contains(t, errOut, "wrote 6 files")
}

func TestBenchTable(t *testing.T) {
	out, _, err := runCmd("bench", append(small, "--out", "", "--strategies", "flashcp-p")...)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.True(t, strings.HasPrefix(strings.TrimSpace(lines[0]), "part"), lines[0])
	require.Contains(t, out, "flashcp-p")
	require.Contains(t, out, "rewrite-floor")
	rows := 0
	for _, l := range lines[1:] {
		if f := strings.Fields(l); f[0] == "w25q256jv" {
			require.Contains(t, []string{"flashcp-p", "rewrite-floor"}, f[5], l)
			rows++
		}
	}
	require.Equal(t, 8, rows) // two workloads × two erase models × (flashcp-p, rewrite-floor)
	require.Contains(t, out, "target n/a    (a) [4k]")
}

// --check prints the targets' worst rows and fails when a gated target is
// missed or, on a matrix too narrow to measure it, not measured.
func TestBenchCheck(t *testing.T) {
	out, _, err := runCmd("bench", append(small, "--out", "", "--erase-models", "4k", "--check", "--wear-rounds", "5")...)
	var ee *exitError
	require.True(t, errors.As(err, &ee), "%v", err)
	require.Equal(t, 1, ee.code)
	require.Contains(t, ee.msg, "gated target(s) missed or not measured")
	require.Contains(t, ee.msg, "(c) n/a") // no scattered-1pct on 8 MiB in this run
	require.Regexp(t, `target (met   |MISSED) \(a\) \[4k\] engine latency`, out)
	require.Regexp(t, `target\s+erase\s+gated\s+status\s+worst row\s+measured\s+bound\s+unit\s+×bound\s+rows`, out)
	require.Contains(t, out, "w25q256jv/typical/4k/1MiB/")
	// The wear target (e): five rounds cannot spread the store's erases.
	require.Regexp(t, `\(e\)\s+4k\s+yes\s+MISSED\s+mx66l1g45g/typical/4k/8MiB/cmc-10m\s+\S+\s+2\s+ratio`, out)
	require.Contains(t, ee.msg, "(e) MISSED")

	out, _, err = runCmd("bench", append(small, "--out", "", "--strategies", "flashcp-p", "--check", "--json", "--wear-rounds", "5")...)
	require.True(t, errors.As(err, &ee), "%v", err)
	require.Contains(t, ee.msg, "(a) n/a")
	var rep struct {
		Wear    map[string]any   `json:"wear"`
		Targets []map[string]any `json:"targets"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.EqualValues(t, 5, rep.Wear["rounds"])
	last := rep.Targets[len(rep.Targets)-1]
	require.Equal(t, "e", last["id"])
	require.Contains(t, last, "value_ratio")
	require.Contains(t, rep.Targets[0], "value_seconds")
}

// --wear runs the wear measurement alone; with --check it gates it.
func TestBenchWear(t *testing.T) {
	out, _, err := runCmd("bench", "--wear", "--wear-rounds", "3")
	require.NoError(t, err)
	require.Regexp(t, `^wear (met|MISSED): 3 rounds of cmc-10m on mx66l1g45g 4k 8MiB: max \d+ erases`, out)

	out, _, err = runCmd("bench", "--wear", "--wear-rounds", "3", "--check", "--json")
	var ee *exitError
	require.True(t, errors.As(err, &ee), "%v", err)
	require.Contains(t, ee.msg, "(e) MISSED")
	require.Contains(t, out, `"bound_max_over_mean": 2`)

	_, _, err = runCmd("bench", "--wear", "--wear-rounds", "0")
	require.True(t, errors.As(err, &ee), "%v", err)
	require.Equal(t, 2, ee.code)
}

func TestBenchBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--sizes", "3x"},
		{"--parts", "nope"},
		{"--parts", "mt29f2g01"},
		{"--timings", "slow"},
		{"--erase-models", "32k"},
		{"--workloads", "cmc-2m"},
		{"--strategies", "rsync"},
		{"--bogus"},
		{"extra"},
	} {
		_, errOut, err := runCmd("bench", args...)
		var ee *exitError
		require.True(t, errors.As(err, &ee), "%v: %v", args, err)
		require.Equal(t, 2, ee.code, "%v: %s %s", args, ee.msg, errOut)
	}
	_, errOut, err := runCmd("bench", "-h")
	require.NoError(t, err)
	require.Contains(t, errOut, "--quick")
}
