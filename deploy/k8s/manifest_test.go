package k8s_test

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// cmcsync's exit statuses that the Job's pod failure policy names.
const (
	exitViolations = 1 // the campaign found violations (its report is in the log)
	exitUsage      = 2 // bad flags: every shard fails alike
)

// image is what the Dockerfile builds: where the binary lands, the
// entrypoint and the user.
type image struct {
	from       []string // every FROM
	copyTo     string   // destination of the one COPY
	entrypoint []string
	user       string
}

// readDockerfile reads the instructions the checks need.
func readDockerfile(t *testing.T) image {
	t.Helper()
	text, err := os.ReadFile(dockerfile)
	require.NoError(t, err)
	var img image
	for _, line := range strings.Split(string(text), "\n") {
		word, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch strings.ToUpper(word) {
		case "FROM":
			img.from = append(img.from, rest)
		case "COPY":
			fields := strings.Fields(rest)
			require.Len(t, fields, 2, "COPY %s: want one source and its destination", rest)
			require.Empty(t, img.copyTo, "one COPY only")
			img.copyTo = fields[1]
		case "ENTRYPOINT":
			require.NoError(t, json.Unmarshal([]byte(rest), &img.entrypoint), "ENTRYPOINT in exec form (a JSON array): a scratch image has no shell")
		case "USER":
			img.user = rest
		}
	}
	return img
}

// jobProblems lists what is wrong with the campaign Job for the image it
// runs: every check the shards test relies on.
func jobProblems(job *batchv1.Job, img image) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	spec := job.Spec
	if spec.CompletionMode == nil || *spec.CompletionMode != batchv1.IndexedCompletion {
		bad("completionMode is not Indexed: pods get no JOB_COMPLETION_INDEX")
	}
	if spec.Completions == nil || *spec.Completions < 1 {
		bad("completions unset: the number of shards")
		return problems
	}
	shards := int(*spec.Completions)
	if spec.Parallelism == nil || *spec.Parallelism < 1 || int(*spec.Parallelism) > shards {
		bad("parallelism %v: want 1 to completions (%d)", deref(spec.Parallelism), shards)
	}
	pod := spec.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		bad("restartPolicy %q: a pod failure policy needs Never", pod.RestartPolicy)
	}
	if len(pod.Containers) != 1 {
		bad("%d containers: want the campaign alone", len(pod.Containers))
		return problems
	}
	c := pod.Containers[0]
	if !slices.Equal(c.Command, img.entrypoint) || len(img.entrypoint) != 1 || img.entrypoint[0] != img.copyTo {
		bad("command %q: want the image's entrypoint %q, the binary it copies to %s", c.Command, img.entrypoint, img.copyTo)
	}
	if name := imageName(c.Image); name != "cmcsync" {
		bad("image %q: want the cmcsync image (any registry and tag)", c.Image)
	}
	if len(c.Args) == 0 || c.Args[0] != "campaign" || !slices.Contains(c.Args, "--json") {
		bad("args %q: want a campaign printing its report as JSON (--json)", c.Args)
	}
	for _, a := range c.Args {
		if strings.HasPrefix(a, "--shard") || strings.HasPrefix(a, "-shard") {
			bad("args %q: --shard overrides the shard the Job gives each pod", c.Args)
		}
	}
	if count := envValue(c, "CMCSYNC_SHARDS"); count != strconv.Itoa(shards) {
		bad("CMCSYNC_SHARDS=%q but completions is %d: the shards would not cover the campaign once", count, shards)
	}
	if _, ok := c.Resources.Limits[corev1.ResourceCPU]; !ok {
		bad("no CPU limit: the campaign would start a worker per CPU of the node")
	}
	if msg := memoryProblem(c); msg != "" {
		bad("%s", msg)
	}
	problems = append(problems, policyProblems(spec, c.Name)...)
	sc := c.SecurityContext
	if sc == nil || sc.RunAsUser == nil || !strings.HasPrefix(img.user, strconv.FormatInt(*sc.RunAsUser, 10)+":") {
		bad("runAsUser: want the image's user %q", img.user)
	}
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		bad("the root filesystem is writable: the campaign writes no file")
	}
	return problems
}

// memoryProblem says what is wrong with the container's memory settings:
// a limit is needed, and GOMEMLIMIT below it, or the heap the campaign
// lets grow (GOGC=400) gets the pod killed.
func memoryProblem(c corev1.Container) string {
	limit, ok := c.Resources.Limits[corev1.ResourceMemory]
	if !ok {
		return "no memory limit"
	}
	text := envValue(c, "GOMEMLIMIT")
	soft, err := resource.ParseQuantity(strings.TrimSuffix(text, "B")) // Go's MiB is Kubernetes' Mi
	if err != nil {
		return fmt.Sprintf("GOMEMLIMIT=%q: want a size such as 2560MiB, below the memory limit %v", text, &limit)
	}
	if soft.Cmp(limit) >= 0 {
		return fmt.Sprintf("GOMEMLIMIT=%s is not below the memory limit %v", text, &limit)
	}
	return ""
}

// policyProblems checks that the pod failure policy fails the Job on a
// usage error, fails only the shard's index on violations (rerunning a
// seeded shard finds them again), and that per-index retries are on.
func policyProblems(spec batchv1.JobSpec, container string) []string {
	var problems []string
	if spec.BackoffLimitPerIndex == nil {
		problems = append(problems, "backoffLimitPerIndex unset: one failed shard would stop the others (and FailIndex needs it)")
	}
	want := map[int32]batchv1.PodFailurePolicyAction{exitUsage: batchv1.PodFailurePolicyActionFailJob, exitViolations: batchv1.PodFailurePolicyActionFailIndex}
	for code, action := range want {
		if got := actionOnExit(spec.PodFailurePolicy, container, code); got != action {
			problems = append(problems, fmt.Sprintf("exit %d: the pod failure policy says %q, want %q", code, got, action))
		}
	}
	return problems
}

// actionOnExit returns the action of the first rule of policy matching
// the container's exit code ("" if none: the Job's backoff applies).
func actionOnExit(policy *batchv1.PodFailurePolicy, container string, code int32) batchv1.PodFailurePolicyAction {
	if policy == nil {
		return ""
	}
	for _, r := range policy.Rules {
		on := r.OnExitCodes
		if on == nil || (on.ContainerName != nil && *on.ContainerName != container) {
			continue
		}
		if slices.Contains(on.Values, code) == (on.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn) {
			return r.Action
		}
	}
	return ""
}

// imageName returns the repository's last path element of an image
// reference: "cmcsync" for registry.example.com/team/cmcsync:v1.
func imageName(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		ref = ref[i+1:]
	}
	name, _, _ := strings.Cut(ref, ":")
	return name
}

func envValue(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func deref(p *int32) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestCampaignJob: the Job decodes strictly and passes every check.
func TestCampaignJob(t *testing.T) {
	job := readJob(t)
	require.Empty(t, jobProblems(job, readDockerfile(t)))
	require.Equal(t, "cmcsync-campaign", job.Name, "merge.sh's default")
}

// TestCampaignJobChecksFail: each check rejects a manifest broken its way,
// and strict decoding rejects unknown and repeated fields.
func TestCampaignJobChecksFail(t *testing.T) {
	manifest, err := os.ReadFile(jobManifest)
	require.NoError(t, err)
	img := readDockerfile(t)
	for _, tc := range []struct{ name, from, to, says string }{
		{"unknown field", "completions: 8", "completions: 8\n  completion: 8", `unknown field "spec.completion"`},
		{"repeated field", "parallelism: 8", "parallelism: 8\n  parallelism: 4", `key "parallelism" already set`},
		{"other group", "apiVersion: batch/v1", "apiVersion: apps/v1", `no kind "Job" is registered for version "apps/v1"`},
		{"not a Job", "kind: Job", "kind: CronJob", `unknown field "spec.completions"`},
		{"not indexed", "completionMode: Indexed", "completionMode: NonIndexed", "not Indexed"},
		{"count not completions", `value: "8"`, `value: "4"`, `CMCSYNC_SHARDS="4" but completions is 8`},
		{"more parallel than shards", "parallelism: 8", "parallelism: 9", "parallelism 9"},
		{"shard flag", `"--json"]`, `"--json", "--shard", "0/8"]`, "--shard overrides"},
		{"no JSON", `, "--json"]`, `]`, "--json"},
		{"other image", "image: cmcsync:dev", "image: busybox:1", `image "busybox:1"`},
		{"other command", `command: ["/cmcsync"]`, `command: ["/bin/cmcsync"]`, "want the image's entrypoint"},
		{"retried violations", "action: FailIndex", "action: Ignore", `exit 1: the pod failure policy says "Ignore"`},
		{"no per-index retries", "backoffLimitPerIndex: 2", "backoffLimit: 2", "backoffLimitPerIndex unset"},
		{"restarts in place", "restartPolicy: Never", "restartPolicy: OnFailure", "needs Never"},
		{"no CPU limit", "limits:\n              cpu: \"2\"\n", "limits:\n", "no CPU limit"},
		{"root", "runAsUser: 65532", "runAsUser: 0", "runAsUser"},
		{"heap limit above the pod's", "value: 2560MiB", "value: 3GiB", "GOMEMLIMIT=3GiB is not below the memory limit 3Gi"},
		{"no heap limit", "name: GOMEMLIMIT", "name: GOGC", `GOMEMLIMIT=""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			broken := strings.Replace(string(manifest), tc.from, tc.to, 1)
			require.NotEqual(t, string(manifest), broken, "%q not in %s", tc.from, jobManifest)
			job, err := decodeJob([]byte(broken))
			if err != nil {
				require.ErrorContains(t, err, tc.says)
				return
			}
			require.Contains(t, strings.Join(jobProblems(job, img), "\n"), tc.says)
		})
	}
}

func TestImageName(t *testing.T) {
	for ref, want := range map[string]string{
		"cmcsync": "cmcsync", "cmcsync:dev": "cmcsync", "registry.example.com:5000/team/cmcsync:v1": "cmcsync",
		"ghcr.io/x/cmcsync@sha256:0123": "cmcsync", "busybox": "busybox",
	} {
		require.Equal(t, want, imageName(ref), ref)
	}
}
