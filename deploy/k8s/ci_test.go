package k8s_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// ciWorkflow is the CI matrix example, deploy/ci/github-actions.yml.
const ciWorkflow = "../ci/github-actions.yml"

// workflow holds the parts of a GitHub Actions workflow the test plays.
type workflow struct {
	Env  map[string]any `json:"env"`
	Jobs map[string]struct {
		Needs    any    `json:"needs"`
		If       string `json:"if"`
		Strategy struct {
			FailFast *bool          `json:"fail-fast"`
			Matrix   map[string]any `json:"matrix"`
		} `json:"strategy"`
		Steps []step `json:"steps"`
	} `json:"jobs"`
}

type step struct {
	Name string            `json:"name"`
	If   string            `json:"if"`
	Uses string            `json:"uses"`
	Run  string            `json:"run"`
	Env  map[string]string `json:"env"`
	With map[string]any    `json:"with"`
}

// expression is a ${{ ... }} of the workflow.
var expression = regexp.MustCompile(`\$\{\{\s*([^}]*?)\s*\}\}`)

// resolve replaces the expressions the shard steps use: matrix.index and
// env.NAME; any other is a test failure.
func resolve(t *testing.T, text string, index int, env map[string]any) string {
	t.Helper()
	return expression.ReplaceAllStringFunc(text, func(e string) string {
		name := expression.FindStringSubmatch(e)[1]
		if name == "matrix.index" {
			return fmt.Sprint(index)
		}
		if v, ok := env[strings.TrimPrefix(name, "env.")]; ok && strings.HasPrefix(name, "env.") {
			return fmt.Sprint(v)
		}
		require.Failf(t, "an expression the test cannot play", "%s in %q", e, text)
		return ""
	})
}

// findStep returns the job's first step whose run or uses contains what.
func findStep(t *testing.T, steps []step, what string) step {
	t.Helper()
	for _, s := range steps {
		if strings.Contains(s.Run, what) || strings.Contains(s.Uses, what) {
			return s
		}
	}
	require.Failf(t, "no step", "no step runs or uses %q", what)
	return step{}
}

// TestCIMatrix plays the CI example: its shard steps, one per index of
// the matrix, with the environment each job gets (a small COUNT instead of
// the workflow's); the artifacts they upload, downloaded where the merge
// step reads them; and the merge, which must pass, then fail (exit 3) once
// a shard's artifact is missing.
func TestCIMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the campaign's shards (-short)")
	}
	text, err := os.ReadFile(ciWorkflow)
	require.NoError(t, err)
	var wf workflow
	require.NoError(t, yaml.Unmarshal(text, &wf))
	var n int
	_, err = fmt.Sscan(fmt.Sprint(wf.Env["SHARDS"]), &n)
	require.NoError(t, err, "env SHARDS")
	require.Positive(t, n)

	plan := wf.Jobs["plan"]
	require.Contains(t, findStep(t, plan.Steps, "range(").Run, `--argjson n "$SHARDS" '[range($n)]'`, "one matrix index per shard")
	shard := wf.Jobs["shard"]
	require.Equal(t, "${{ fromJSON(needs.plan.outputs.indexes) }}", shard.Strategy.Matrix["index"])
	require.NotNil(t, shard.Strategy.FailFast)
	require.False(t, *shard.Strategy.FailFast, "every shard runs, whatever another found")
	run := findStep(t, shard.Steps, "cmcsync campaign")
	require.NotContains(t, run.Run, "--shard", "the shard comes from the environment")
	upload := findStep(t, shard.Steps, "upload-artifact")
	require.Equal(t, "${{ !cancelled() }}", upload.If, "a shard with violations keeps its report")
	merge := wf.Jobs["merge"]
	require.Equal(t, "shard", merge.Needs)
	require.Equal(t, "${{ !cancelled() }}", merge.If, "the merge runs when shards failed")
	download := findStep(t, merge.Steps, "download-artifact")
	mergeRun := findStep(t, merge.Steps, "cmcsync campaign merge")

	bin := cmcsyncBinary(t)
	work := t.TempDir()
	reports := filepath.Join(work, fmt.Sprint(download.With["path"]))
	require.NoError(t, os.MkdirAll(reports, 0o755))
	for k := range n {
		dir := filepath.Join(work, fmt.Sprintf("shard-job-%d", k))
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.Symlink(bin, filepath.Join(dir, "cmcsync")))
		cmd := exec.Command("bash", "-e", "-c", run.Run)
		cmd.Dir = dir
		cmd.Env = []string{"COUNT=24", "SEED=" + fmt.Sprint(wf.Env["SEED"]), "PATH=" + os.Getenv("PATH")}
		for name, v := range run.Env {
			cmd.Env = append(cmd.Env, name+"="+resolve(t, v, k, wf.Env))
		}
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "shard %d: %s", k, out)
		artifact := resolve(t, fmt.Sprint(upload.With["path"]), k, wf.Env)
		report, err := os.ReadFile(filepath.Join(dir, artifact))
		require.NoError(t, err, "shard %d uploads what it wrote", k)
		require.NoError(t, os.WriteFile(filepath.Join(reports, artifact), report, 0o644))
	}
	mergeCmd := func() (string, int) {
		require.NoError(t, os.Symlink(bin, filepath.Join(work, "cmcsync")))
		defer os.Remove(filepath.Join(work, "cmcsync"))
		cmd := exec.Command("bash", "-e", "-c", mergeRun.Run)
		cmd.Dir = work
		out, err := cmd.CombinedOutput()
		return string(out), exitCode(err)
	}
	out, code := mergeCmd()
	require.Equal(t, 0, code, out)
	require.Contains(t, out, fmt.Sprintf("count 24, shards 0/%d,", n))
	require.NoError(t, os.Remove(filepath.Join(reports, "shard-5.json")))
	out, code = mergeCmd()
	require.Equal(t, 3, code, out)
	require.Contains(t, out, fmt.Sprintf("shards missing: 5/%d of %d", n, n))
}
