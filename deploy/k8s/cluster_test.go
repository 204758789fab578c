package k8s_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
)

// The files of this folder that the tests read.
const (
	jobManifest = "campaign-job.yaml"
	dockerfile  = "Dockerfile"
)

// binDir holds the cmcsync binary that TestMain builds for every test.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cmcsync-k8s-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cmcsyncBinary builds cmcsync from the repository as the Dockerfile's
// header says (CGO_ENABLED=0, -trimpath) and returns its path; the build
// runs once per test process.
func cmcsyncBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(binDir, "cmcsync")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/cmcsync")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/cmcsync: %s", out)
	return bin
}

// decodeStrict decodes one manifest as the API server's strict field
// validation would: an unknown or repeated field is an error, and so is a
// kind other than the batch/v1 ones.
func decodeStrict(manifest []byte) (runtime.Object, error) {
	scheme := runtime.NewScheme()
	if err := batchv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	obj, _, err := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer().Decode(manifest, nil, nil)
	return obj, err
}

// decodeJob decodes a Job manifest strictly.
func decodeJob(manifest []byte) (*batchv1.Job, error) {
	obj, err := decodeStrict(manifest)
	if err != nil {
		return nil, err
	}
	job, ok := obj.(*batchv1.Job)
	if !ok {
		return nil, fmt.Errorf("a %T, not a batch/v1 Job", obj)
	}
	return job, nil
}

// readJob reads and strictly decodes the campaign Job.
func readJob(t *testing.T) *batchv1.Job {
	t.Helper()
	manifest, err := os.ReadFile(jobManifest)
	require.NoError(t, err)
	job, err := decodeJob(manifest)
	require.NoError(t, err, jobManifest)
	return job
}

// campaignContainer returns the Job's one container.
func campaignContainer(t *testing.T, job *batchv1.Job) corev1.Container {
	t.Helper()
	require.Len(t, job.Spec.Template.Spec.Containers, 1)
	return job.Spec.Template.Spec.Containers[0]
}

// varRef is a $(NAME) reference in a container's command or arguments.
var varRef = regexp.MustCompile(`\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// podEnv returns the environment the Job gives the container of shard
// index: the variables the manifest sets (plain values only: the test
// cannot play valueFrom; $(NAME) expanded from those before) and
// JOB_COMPLETION_INDEX, which Kubernetes adds to every container of an
// Indexed Job. It has no PATH or HOME: a scratch
// image has none either.
func podEnv(t *testing.T, c corev1.Container, index int) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, e := range c.Env {
		require.Nil(t, e.ValueFrom, "env %s: the test plays only plain values", e.Name)
		env[e.Name] = varRef.ReplaceAllStringFunc(e.Value, func(ref string) string { return expandRef(ref, env) })
	}
	// The Job controller appends it after the manifest's variables.
	env["JOB_COMPLETION_INDEX"] = strconv.Itoa(index)
	return env
}

// expandArgs expands $(NAME) in args from env as the kubelet does: an
// unknown name stays as written, $$ is a $.
func expandArgs(args []string, env map[string]string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = varRef.ReplaceAllStringFunc(a, func(ref string) string { return expandRef(ref, env) })
	}
	return out
}

func expandRef(ref string, env map[string]string) string {
	if ref == "$$" {
		return "$"
	}
	if v, ok := env[ref[2:len(ref)-1]]; ok {
		return v
	}
	return ref
}

// environ turns env into the form exec.Cmd takes.
func environ(env map[string]string) []string {
	var out []string
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}
