package mutate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ErrBaseline is returned when a stage fails on the unmutated tree: every
// mutant would look killed.
var ErrBaseline = errors.New("the tests fail without a mutant")

// Stage is one `go test` invocation: its packages and flags (after `go
// test`; the runner adds -overlay, -vet=off and -failfast).
type Stage struct {
	Name string
	Args []string
	// OwnFirst lists the stage's packages as "./dir" (Args must then name
	// exactly these after its flags). For a mutant in one of them, that
	// package's tests run first, alone, and the others only when it
	// passes: go test's -failfast stops one package, not the others, so
	// a mutant its own package's tests kill no longer waits for the rest.
	// The outcome is the same (the stage fails if any package fails).
	OwnFirst []string
}

// split returns the stage as run for a mutant of file (slash path from the
// module root): one invocation, or its own package's then the others'.
func (st Stage) split(file string) [][]string {
	own := "./" + path.Dir(file)
	if file == "" || !slices.Contains(st.OwnFirst, own) {
		return [][]string{st.Args}
	}
	flags := st.Args[:len(st.Args)-len(st.OwnFirst)]
	var rest []string
	for _, p := range st.OwnFirst {
		if p != own {
			rest = append(rest, p)
		}
	}
	runs := [][]string{append(slices.Clone(flags), own)}
	if len(rest) > 0 {
		runs = append(runs, append(slices.Clone(flags), rest...))
	}
	return runs
}

// Runner tests mutants of the module at Root.
type Runner struct {
	Go      string // the go command
	Root    string // absolute module root
	Scratch string // directory under which each mutant gets its own directory for its mutated file and overlay file
	// Env is added to the environment of the go commands (e.g. GOMAXPROCS
	// when several mutants run at once).
	Env []string
	// Campaign runs first; Unit only when Campaign passes.
	Campaign, Unit Stage
	// Timeout bounds each stage's wall time; past it the mutant counts as
	// killed (timed out). The stages' own -timeout should be below it.
	Timeout time.Duration
}

// Baseline runs both stages on the unmutated tree and fails with
// ErrBaseline unless both pass.
func (r *Runner) Baseline(ctx context.Context) error {
	for _, st := range []Stage{r.Campaign, r.Unit} {
		res := r.stage(ctx, st, "", "")
		if !res.pass {
			return fmt.Errorf("%w: stage %s: %s\n%s", ErrBaseline, st.Name, res.failed, res.tail)
		}
	}
	return nil
}

// SourceHash is the hex SHA-256 of the file m mutates.
func (r *Runner) SourceHash(m Mutant) (string, []byte, error) {
	src, err := os.ReadFile(filepath.Join(r.Root, filepath.FromSlash(m.File)))
	if err != nil {
		return "", nil, err
	}
	sum := sha256.Sum256(src)
	return hex.EncodeToString(sum[:]), src, nil
}

// Run applies m in a scratch directory of its own and runs the stages with
// the mutated file overlaid on the original. Several Runs may go on at once.
// When ctx is done before the stages finished, Run returns ctx's error.
func (r *Runner) Run(ctx context.Context, m Mutant) (Result, error) {
	start := time.Now()
	sha, src, err := r.SourceHash(m)
	if err != nil {
		return Result{}, err
	}
	ed, err := Apply(src, m)
	if err != nil {
		return Result{}, err
	}
	res := Result{Mutant: m, SrcSHA256: sha, From: ed.From.String(), To: ed.To.String(), Code: lineOf(ed.Src, m.Line)}
	if err := os.MkdirAll(r.Scratch, 0o755); err != nil {
		return Result{}, err
	}
	dir, err := os.MkdirTemp(r.Scratch, "mutant-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	overlay, err := writeOverlay(dir, filepath.Join(r.Root, filepath.FromSlash(m.File)), ed.Src)
	if err != nil {
		return Result{}, err
	}
	res.Outcome = Lived
	for _, st := range []Stage{r.Campaign, r.Unit} {
		sr := r.stage(ctx, st, overlay, m.File)
		res.CPUSeconds += sr.cpu.Seconds()
		if err := ctx.Err(); err != nil {
			return Result{}, err // interrupted: record nothing
		}
		if sr.buildFailed {
			res.Outcome, res.Failed = NotViable, sr.failed
			break
		}
		if !sr.pass {
			res.Outcome, res.Failed, res.TimedOut = KilledByUnit, sr.failed, sr.timedOut
			if st.Name == r.Campaign.Name {
				res.Outcome = KilledByCampaign
			}
			break
		}
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// writeOverlay writes, in dir, the mutated file standing in for orig and
// the -overlay JSON naming it, and returns the JSON's path.
func writeOverlay(dir, orig string, src []byte) (string, error) {
	mutated := filepath.Join(dir, "mutant.go")
	if err := os.WriteFile(mutated, src, 0o644); err != nil {
		return "", err
	}
	b, err := json.Marshal(map[string]map[string]string{"Replace": {orig: mutated}})
	if err != nil {
		return "", err
	}
	overlay := filepath.Join(dir, "overlay.json")
	return overlay, os.WriteFile(overlay, b, 0o644)
}

type stageResult struct {
	pass, buildFailed, timedOut bool
	failed, tail                string
	// cpu is user+system of the go command and of the descendants it
	// waited for (its compiles, links and test binaries): the kernel's
	// rusage of this one child, so it stays per mutant when several run.
	cpu time.Duration
}

// stage runs st with the overlay (none: "") for a mutant of file (none:
// ""); the stage's Timeout covers all its invocations.
func (r *Runner) stage(ctx context.Context, st Stage, overlay, file string) stageResult {
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	var res stageResult
	for _, stArgs := range st.split(file) {
		res = r.goTest(ctx, st.Name, stArgs, overlay, res.cpu)
		if !res.pass {
			break
		}
	}
	return res
}

// goTest runs one go test; cpu is what the stage used before it.
func (r *Runner) goTest(ctx context.Context, name string, stArgs []string, overlay string, cpu time.Duration) stageResult {
	args := []string{"test", "-vet=off", "-failfast"}
	if overlay != "" {
		args = append(args, "-overlay="+overlay)
	}
	args = append(args, stArgs...)
	cmd := exec.CommandContext(ctx, r.Go, args...)
	cmd.Dir = r.Root
	if len(r.Env) > 0 {
		cmd.Env = append(os.Environ(), r.Env...)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	setProcessGroup(cmd)
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	text := out.String()
	res := stageResult{pass: err == nil, failed: firstFailure(text), tail: tail(text, 40), cpu: cpu}
	if ps := cmd.ProcessState; ps != nil {
		res.cpu += ps.UserTime() + ps.SystemTime()
	}
	switch {
	case err == nil:
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		res.timedOut, res.failed = true, fmt.Sprintf("stage %s ran past %s", name, r.Timeout)
	case strings.Contains(text, "panic: test timed out"):
		res.timedOut = true
	case strings.Contains(text, "[build failed]") || strings.Contains(text, "[setup failed]"):
		res.buildFailed = true
	}
	return res
}

// firstFailure picks the line that names what failed.
func firstFailure(out string) string {
	for _, prefix := range []string{"--- FAIL:", "panic:", "FAIL\t"} {
		for _, l := range strings.Split(out, "\n") {
			l = strings.TrimSpace(l)
			if strings.HasPrefix(l, prefix) {
				return l
			}
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

func tail(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

func lineOf(src []byte, line int) string {
	ls := bytes.Split(src, []byte("\n"))
	if line < 1 || line > len(ls) {
		return ""
	}
	return strings.TrimSpace(string(ls[line-1]))
}
