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
	"sync"
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
	// CPULimit bounds the stage's CPU time (user+system of the whole
	// process tree) for one mutant; 0: none. Baseline sets it to
	// Runner.CPUFactor × the stage's CPU on the unmutated tree +
	// Runner.CPUMargin. Past it the mutant is killed (timed out).
	CPULimit time.Duration
	// BaselineCPU is what the stage took on the unmutated tree (set by
	// Baseline).
	BaselineCPU time.Duration
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
	// Timeout bounds each stage's wall time. A stage it stops (or its own
	// go test -timeout, which should be below it) is inconclusive unless
	// its CPU passed the stage's CPULimit: wall time measures the
	// machine's load as much as the mutant.
	Timeout time.Duration
	// CPUFactor and CPUMargin make each stage's CPULimit from its
	// baseline CPU (Baseline); a CPUFactor of 0 leaves CPULimit as is.
	CPUFactor float64
	CPUMargin time.Duration
}

// Baseline runs both stages on the unmutated tree with -count=1 (the test
// cache would answer in no CPU time) and without wall limits (neither
// Timeout nor the stage's go test -timeout: load must not fail it), fails
// with ErrBaseline unless both pass, and, when CPUFactor is set, sets each
// stage's CPULimit from the CPU it took. Call it before any Run.
func (r *Runner) Baseline(ctx context.Context) error {
	for _, st := range []*Stage{&r.Campaign, &r.Unit} {
		fresh := *st
		fresh.CPULimit = 0
		fresh.Args = append([]string{"-count=1", "-timeout=0"}, withoutTimeout(st.Args)...)
		res := r.stage(ctx, fresh, "", "", 0)
		if !res.pass {
			return fmt.Errorf("%w: stage %s: %s\n%s", ErrBaseline, st.Name, res.failed, res.tail)
		}
		r.setBaseline(st, res.cpu)
	}
	return nil
}

// withoutTimeout returns args without go test's -timeout flag.
func withoutTimeout(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-timeout" || a == "--timeout":
			i++ // and its value
		case strings.HasPrefix(a, "-timeout=") || strings.HasPrefix(a, "--timeout="):
		default:
			out = append(out, a)
		}
	}
	return out
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
		sr := r.stage(ctx, st, overlay, m.File, r.Timeout)
		res.CPUSeconds += sr.cpu.Seconds()
		if err := ctx.Err(); err != nil {
			return Result{}, err // interrupted: record nothing
		}
		v := judge(sr, st.CPULimit)
		if v == stagePassed {
			continue
		}
		res.Failed = sr.failed
		switch v {
		case stageNotViable:
			res.Outcome = NotViable
		case stageInconclusive:
			res.Outcome, res.CPULimit = Inconclusive, st.CPULimit.Seconds()
			res.Failed = fmt.Sprintf("%s; %.1f s CPU, under its CPU limit %s", sr.failed, sr.cpu.Seconds(), limitText(st.CPULimit))
		case stageTimedOut, stageFailed:
			res.Outcome = KilledByUnit
			if st.Name == r.Campaign.Name {
				res.Outcome = KilledByCampaign
			}
			if v == stageTimedOut {
				res.TimedOut, res.CPULimit = true, st.CPULimit.Seconds()
				res.Failed = fmt.Sprintf("stage %s took %.1f s CPU, past its CPU limit %s", st.Name, sr.cpu.Seconds(), limitText(st.CPULimit))
				if sr.failed != "" {
					res.Failed += "; " + sr.failed
				}
			}
		}
		break
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

func limitText(d time.Duration) string {
	if d <= 0 {
		return "none"
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

type stageResult struct {
	pass, buildFailed bool
	// wallStopped: the wall limit stopped the stage, or go test's own
	// -timeout (wall time too) panicked a test binary.
	wallStopped  bool
	failed, tail string
	// cpu is user+system of the stage's process tree: the go command and
	// its compiles, links and test binaries. For a go command that ended
	// by itself it is the kernel's rusage of it and of the descendants it
	// waited for; for one stopped (wall or CPU limit) it is read from
	// /proc while the whole process group is frozen, so the test binary
	// killed with it counts too. Either way it is this one mutant's,
	// whatever else runs.
	cpu time.Duration
}

// stageVerdict is what one stage says about a mutant.
type stageVerdict int

const (
	stagePassed stageVerdict = iota
	stageFailed
	stageNotViable
	stageTimedOut     // killed: the stage's CPU passed its CPU limit
	stageInconclusive // stopped by wall time under the CPU limit: load, or a hang that burns no CPU
)

// judge is the rule. CPU time past the limit (a loop or a blow-up) kills
// the mutant whatever else happened, whether the limit stopped the stage
// or it ended by itself just past it; a stage stopped by wall time below
// the CPU limit says nothing about the mutant (its wall time is the
// machine's load); then build failures, failures and passes as go test
// reports them. No verdict depends on wall time.
func judge(sr stageResult, cpuLimit time.Duration) stageVerdict {
	switch {
	case cpuLimit > 0 && sr.cpu > cpuLimit:
		return stageTimedOut
	case sr.wallStopped:
		return stageInconclusive
	case sr.pass:
		return stagePassed
	case sr.buildFailed:
		return stageNotViable
	default:
		return stageFailed
	}
}

// errCPULimit stops a stage whose tree passed its CPU limit.
var errCPULimit = errors.New("past the CPU limit")

// stage runs st with the overlay (none: "") for a mutant of file (none:
// ""); the wall limit (none: 0) and st.CPULimit cover all its invocations.
func (r *Runner) stage(ctx context.Context, st Stage, overlay, file string, wall time.Duration) stageResult {
	if wall > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, wall)
		defer cancel()
	}
	var res stageResult
	for _, stArgs := range st.split(file) {
		res = r.goTest(ctx, st, stArgs, overlay, res.cpu)
		if !res.pass {
			break
		}
	}
	return res
}

// pollEvery is how often a running stage's CPU is read (Linux).
const pollEvery = 200 * time.Millisecond

// goTest runs one go test; before is the CPU the stage used before it.
func (r *Runner) goTest(ctx context.Context, st Stage, stArgs []string, overlay string, before time.Duration) stageResult {
	args := []string{"test", "-vet=off", "-failfast"}
	if overlay != "" {
		args = append(args, "-overlay="+overlay)
	}
	args = append(args, stArgs...)
	runCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	cmd := exec.CommandContext(runCtx, r.Go, args...)
	cmd.Dir = r.Root
	if len(r.Env) > 0 {
		cmd.Env = append(os.Environ(), r.Env...)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	var mu sync.Mutex
	var seen time.Duration // the most CPU the group was seen to have used
	see := func(pgid int) {
		c := groupCPU(pgid)
		mu.Lock()
		seen = max(seen, c)
		mu.Unlock()
	}
	setProcessGroup(cmd, see)
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Start()
	if err == nil {
		done := make(chan struct{})
		if canWatchCPU && st.CPULimit > 0 {
			go func() {
				t := time.NewTicker(pollEvery)
				defer t.Stop()
				for {
					select {
					case <-done:
						return
					case <-t.C:
					}
					see(cmd.Process.Pid)
					mu.Lock()
					over := before+seen > st.CPULimit
					mu.Unlock()
					if over {
						stop(errCPULimit)
						return
					}
				}
			}()
		}
		err = cmd.Wait()
		close(done)
	}
	text := out.String()
	res := stageResult{pass: err == nil, failed: firstFailure(text), tail: tail(text, 40), cpu: before}
	var own time.Duration
	if ps := cmd.ProcessState; ps != nil {
		own = ps.UserTime() + ps.SystemTime()
	}
	mu.Lock()
	res.cpu += max(own, seen)
	mu.Unlock()
	switch {
	case err == nil:
	case errors.Is(context.Cause(runCtx), errCPULimit):
		res.failed = "" // Run names the limit
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		res.wallStopped, res.failed = true, fmt.Sprintf("stage %s ran past %s", st.Name, r.Timeout)
	case strings.Contains(text, "panic: test timed out"):
		res.wallStopped = true
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
