package k8s_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
)

// testCount replaces the Job's --count: the test runs the Job's campaign
// with 100 schedules instead of a million (not a multiple of the 8
// shards: they get 13 or 12).
const testCount = "100"

// report holds the fields of a campaign report that do not depend on how
// the campaign was split or on the machine (not the workers, the live
// rounds a worker's memo saved, or the times).
type report struct {
	Mode            string         `json:"mode"`
	Scenario        string         `json:"scenario"`
	Seed            uint64         `json:"seed"`
	Mutant          string         `json:"mutant"`
	Depth           int            `json:"depth"`
	Count           int            `json:"count"`
	RoundOps        int            `json:"round_ops"`
	Schedules       int            `json:"schedules"`
	FaultPoints     int            `json:"fault_points"`
	TornVariants    int            `json:"torn_variants"`
	RecoveryPoints  int            `json:"recovery_points"`
	Checks          map[string]int `json:"checks"`
	ViolationsTotal int            `json:"violations_total"`
	Violations      []struct {
		Replay    string `json:"replay"`
		Invariant string `json:"invariant"`
		Detail    string `json:"detail"`
	} `json:"violations"`
}

// TestShardsMergeToOneRun runs the Job's shards as local processes, each
// with the command, arguments and environment its pod gets and its
// standard output and error in one log as the kubelet keeps them; merges
// the logs with merge.sh through a fake kubectl; and checks that the merge
// counts what one unsharded run of the same campaign counts, point for
// point and violation for violation: with the real engine, and with a
// mutant so that there are violations to compare. Then a lost shard fails
// the merge.
func TestShardsMergeToOneRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the campaign's shards (-short)")
	}
	job := readJob(t)
	bin := cmcsyncBinary(t)
	c := campaignContainer(t, job)
	for _, tc := range []struct {
		name  string
		extra []string // after the Job's arguments
		// exit of merge.sh and of the shards that found violations; -1:
		// whatever the unsharded run gives (the real engine: 0 once the
		// cases in faults/campaign/testdata/known-violations.txt are
		// fixed, 1 while some of them turn up among the schedules).
		exit int
	}{
		{"real engine", nil, -1},
		{"mutant", []string{"--mutant", "no-crc-check"}, exitViolations},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(withCount(t, c.Args, testCount), tc.extra...)
			whole := exec.Command(bin, args...) // shard 0/1
			whole.Env = []string{}
			wout, err := whole.Output()
			wantExit := exitCode(err)
			if tc.exit >= 0 {
				require.Equal(t, tc.exit, wantExit, "unsharded run: %v", err)
			}
			require.Contains(t, []int{0, exitViolations}, wantExit, "unsharded run: %v", err)
			var one report
			require.NoError(t, json.Unmarshal(wout, &one))
			require.Equal(t, wantExit != 0, one.ViolationsTotal > 0)

			cluster := runJob(t, job, bin, args)
			out, stderr, code := mergeSh(t, cluster, bin)
			require.Equal(t, wantExit, code, "merge.sh: %s", stderr)
			var merged report
			require.NoError(t, json.Unmarshal(out, &merged), "%s", out)
			require.Equal(t, one, merged)
			require.Greater(t, merged.FaultPoints, 0)

			// A shard's node is lost with its pod: one that found no
			// violation, so that the others' still fail the merge.
			lost := cleanShard(t, cluster)
			require.NoError(t, os.RemoveAll(filepath.Join(cluster, "pods", fmt.Sprint(lost))))
			_, stderr, code = mergeSh(t, cluster, bin)
			lostExit := 3 // shards missing
			if wantExit != 0 {
				lostExit = wantExit // violations found say more; the message names the lost shard too
			}
			require.Equal(t, lostExit, code, "a lost shard fails the merge: %s", stderr)
			require.Contains(t, stderr, fmt.Sprintf("shard %d/8 has no pod", lost))
			require.Contains(t, stderr, fmt.Sprintf("shards missing: %d/8 of 8", lost))
		})
	}
}

// cleanShard returns the greatest index whose shard found no violation.
func cleanShard(t *testing.T, cluster string) int {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(cluster, "pods", "*", "1_*.log"))
	require.NoError(t, err)
	clean := -1
	for _, p := range logs {
		text, err := os.ReadFile(p)
		require.NoError(t, err)
		var k int
		_, err = fmt.Sscan(filepath.Base(filepath.Dir(p)), &k)
		require.NoError(t, err)
		if strings.Contains(string(text), `"violations_total": 0,`) {
			clean = max(clean, k)
		}
	}
	require.GreaterOrEqual(t, clean, 0, "every shard found violations")
	return clean
}

// withCount returns args with the value of --count replaced.
func withCount(t *testing.T, args []string, count string) []string {
	t.Helper()
	i := slices.Index(args, "--count")
	require.True(t, i >= 0 && i+1 < len(args), "args %q: no --count", args)
	out := slices.Clone(args)
	out[i+1] = count
	return out
}

// runJob plays the Indexed Job on this machine: a process per index, each
// as its pod would run it, its log stored in a fake cluster folder (see
// testdata/fake-kubectl) whose Job has finished. A shard's exit status
// must be one the pod failure policy lets its log stand (success, or the
// violations that fail the index). Shard 0 also has an older try whose
// log stops short, as an evicted pod's does. It returns the folder.
func runJob(t *testing.T, job *batchv1.Job, bin string, args []string) string {
	t.Helper()
	c := campaignContainer(t, job)
	shards := int(*job.Spec.Completions)
	cluster := t.TempDir()
	write := func(name, text string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(cluster, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(cluster, name), []byte(text), 0o644))
	}
	write("completions", fmt.Sprint(shards))
	write("conditions", "\nFailureTarget\nFailed\n") // two looks before it has finished
	for k := range shards {
		env := podEnv(t, c, k)
		cmd := exec.Command(bin, expandArgs(args, env)...)
		cmd.Env = environ(env)
		var log bytes.Buffer
		cmd.Stdout, cmd.Stderr = &log, &log
		code := exitCode(cmd.Run())
		if code != 0 {
			require.Equal(t, batchv1.PodFailurePolicyActionFailIndex, actionOnExit(job.Spec.PodFailurePolicy, c.Name, int32(code)),
				"shard %d exited %d: %s", k, code, log.String())
		}
		pod := fmt.Sprintf("%s-%d-x%d", job.Name, k, k)
		write(fmt.Sprintf("pods/%d/1_%s.log", k, pod), log.String())
		if k == 0 {
			first, _, _ := strings.Cut(log.String(), "\n")
			write(fmt.Sprintf("pods/%d/0_%s-evicted.log", k, pod), first+"\n")
		}
	}
	return cluster
}

// mergeSh runs merge.sh (with --json) on the fake cluster and returns its
// standard output, standard error and exit status.
func mergeSh(t *testing.T, cluster, bin string) ([]byte, string, int) {
	t.Helper()
	fake, err := filepath.Abs(filepath.Join("testdata", "fake-kubectl"))
	require.NoError(t, err)
	cmd := exec.Command("bash", "merge.sh", "cmcsync-campaign", filepath.Join(cluster, "reports"), "--json")
	cmd.Env = append(os.Environ(), "KUBECTL="+fake, "CMCSYNC="+bin, "FAKE_CLUSTER="+cluster, "POLL=0")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code := exitCode(cmd.Run())
	return stdout.Bytes(), stderr.String(), code
}

// exitCode returns a finished command's exit status (-1 if it did not
// run).
func exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	return -1
}
