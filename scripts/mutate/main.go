// Command mutate runs a seeded sample of Gremlins' mutants of sync/store
// and sync/engine against the campaign tests, then the unit tests, and
// prints the mutation score (docs/MUTATION.md). `make mutate` runs it.
//
// Results go to a JSON-lines file, one line per mutant; a rerun with the
// same file, seed and sample size tests only the mutants not yet in it.
// -jobs N tests N mutants at once (started in draw order).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/internal/mutate"
)

type enumFlag []string

func (e *enumFlag) String() string     { return strings.Join(*e, ",") }
func (e *enumFlag) Set(v string) error { *e = append(*e, v); return nil }

// config is the command line.
type config struct {
	enums                     []string
	n                         int
	seed                      uint64
	resultsPath, eqPath       string
	campaignRun, unitRun      string
	campaignShort             bool
	timeout, budget           time.Duration
	cpuFactor                 float64
	cpuMargin                 time.Duration
	summaryOnly, skipBaseline bool
	jobs                      int
}

func main() {
	var enums enumFlag
	var c config
	flag.Var(&enums, "enum", "gremlins dry-run output `FILE=PKGDIR` (repeatable), e.g. mutate-out/store.json=sync/store")
	flag.IntVar(&c.n, "n", 300, "sample size")
	flag.Uint64Var(&c.seed, "seed", 1, "sample seed")
	flag.StringVar(&c.resultsPath, "results", "mutate-out/results.jsonl", "results file (kept across runs: a rerun continues)")
	flag.StringVar(&c.eqPath, "equivalent", "scripts/mutate/equivalent.txt", "list of mutants judged equivalent, with reasons")
	flag.StringVar(&c.campaignRun, "campaign-run", "", "go test -run pattern for the campaign stage")
	flag.StringVar(&c.unitRun, "unit-run", "", "go test -run pattern for the unit stage (default: every test; a pattern is for smoke runs of the tool)")
	flag.BoolVar(&c.campaignShort, "campaign-short", false, "run the campaign stage with -short")
	flag.DurationVar(&c.timeout, "timeout", 10*time.Minute, "wall-time bound of one stage for one mutant (past it, under the CPU limit: inconclusive, tested again by a rerun)")
	flag.Float64Var(&c.cpuFactor, "cpu-factor", 3, "a stage's CPU limit is this many times its baseline CPU, plus -cpu-margin (past it: killed, timed out)")
	flag.DurationVar(&c.cpuMargin, "cpu-margin", 30*time.Second, "CPU time added to each stage's CPU limit (a mutant's recompiles)")
	flag.DurationVar(&c.budget, "budget", 0, "stop starting new mutants after this long (0: no bound); rerun to continue")
	flag.BoolVar(&c.summaryOnly, "summary", false, "print the summary of the results file and test nothing")
	flag.BoolVar(&c.skipBaseline, "skip-baseline", false, "do not run the stages unmutated first (then no CPU limit: a stage the wall limit stops is inconclusive)")
	flag.IntVar(&c.jobs, "jobs", 0, "mutants tested at once (0: the number of CPUs), each with GOMAXPROCS=max(1, CPUs/jobs) unless GOMAXPROCS is set")
	flag.Parse()
	c.enums = enums
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(1)
	}
}

func run(c config) error {
	enums, n, seed, resultsPath, eqPath := c.enums, c.n, c.seed, c.resultsPath, c.eqPath
	timeout, budget, summaryOnly, skipBaseline, jobs := c.timeout, c.budget, c.summaryOnly, c.skipBaseline, c.jobs
	if c.cpuFactor < 1 {
		return fmt.Errorf("-cpu-factor %g: want 1 or more (a mutant may take its baseline's CPU)", c.cpuFactor)
	}
	if jobs < 0 {
		return fmt.Errorf("-jobs %d: want 0 (the number of CPUs) or more", jobs)
	}
	if jobs == 0 {
		jobs = runtime.NumCPU()
	}
	if len(enums) == 0 {
		return errors.New("no -enum FILE=PKGDIR given (run gremlins unleash --dry-run -o FILE ./PKGDIR first; see docs/MUTATION.md)")
	}
	var all []mutate.Mutant
	for _, e := range enums {
		file, dir, ok := strings.Cut(e, "=")
		if !ok {
			return fmt.Errorf("-enum %q: want FILE=PKGDIR", e)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		ms, err := mutate.ParseGremlins(data, dir)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		all = append(all, ms...)
	}
	generated := len(all)
	uniq, dups := mutate.Dedup(all)
	sample := mutate.Sample(uniq, n, seed)
	if err := checkApplies(sample); err != nil {
		return err
	}

	eq := map[string]string{}
	if f, err := os.Open(eqPath); err == nil {
		eq, err = mutate.ParseEquivalent(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", eqPath, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}

	if err := os.MkdirAll(filepath.Dir(resultsPath), 0o755); err != nil {
		return err
	}
	rs, err := mutate.OpenResults(resultsPath)
	if err != nil {
		return err
	}
	defer rs.Close()

	root, err := os.Getwd()
	if err != nil {
		return err
	}
	scratch, err := os.MkdirTemp("", "cmcsync-mutate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	// No -count=1 for a mutant: the go test cache answers only for a test
	// binary and inputs it has seen pass, so a package the mutant does not
	// reach, and a mutant the compiler folded into the unmutated binary,
	// cost nothing; every other mutant is a new binary and runs. (The
	// baseline adds -count=1: its CPU sets the stages' CPU limits.)
	campaignArgs := []string{"-timeout", (timeout - 30*time.Second).String()}
	if c.campaignShort {
		campaignArgs = append(campaignArgs, "-short")
	}
	if c.campaignRun != "" {
		campaignArgs = append(campaignArgs, "-run", c.campaignRun)
	}
	unitArgs := []string{"-timeout", (timeout - 30*time.Second).String()}
	if c.unitRun != "" {
		unitArgs = append(unitArgs, "-run", c.unitRun)
	}
	unitPkgs, err := listPackages(root, "./sync/...", "./faults", "./faults/reference/...")
	if err != nil {
		return err
	}
	r := &mutate.Runner{
		Go: "go", Root: root, Scratch: scratch, Timeout: timeout, CPUFactor: c.cpuFactor, CPUMargin: c.cpuMargin,
		Campaign: mutate.Stage{Name: "campaign", Args: append(campaignArgs, "./faults/campaign")},
		Unit:     mutate.Stage{Name: "unit", Args: append(unitArgs, unitPkgs...), OwnFirst: unitPkgs},
	}

	if _, set := os.LookupEnv("GOMAXPROCS"); !set && jobs > 1 {
		r.Env = []string{fmt.Sprintf("GOMAXPROCS=%d", max(1, runtime.NumCPU()/jobs))}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	sch := mutate.Schedule{
		Sample: sample, Jobs: jobs, Budget: budget, OnlyRecorded: summaryOnly,
		Lookup: func(m mutate.Mutant) (mutate.Result, bool, error) {
			sha, _, err := r.SourceHash(m)
			if err != nil {
				return mutate.Result{}, false, err
			}
			res, ok := rs.Lookup(m, sha)
			if ok && !res.Settled() && !summaryOnly {
				ok = false // inconclusive: tested again
			}
			return res, ok, nil
		},
		Test: r.Run,
		Record: func(i int, res mutate.Result) error {
			if err := rs.Add(res); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "[%d/%d] %-16s %5.0fs %5.0fs CPU %s %s→%s  %s\n", i+1, len(sample), res.Outcome, res.Seconds, res.CPUSeconds, res.ID(), res.From, res.To, res.Failed)
			return nil
		},
	}
	if !skipBaseline {
		sch.Before = func(ctx context.Context) error {
			outDir, err := filepath.Abs(filepath.Dir(resultsPath))
			if err != nil {
				return err
			}
			skip := []string{".git"}
			if rel, err := filepath.Rel(root, outDir); err == nil {
				skip = append(skip, filepath.ToSlash(rel))
			}
			extra := append([]string{runtime.Version(), os.Getenv("GOFLAGS"), os.Getenv("GOEXPERIMENT"), strings.Join(r.Env, " ")}, r.KeyArgs()...)
			key, err := mutate.TreeKey(root, skip, extra...)
			if err != nil {
				return err
			}
			fmt.Fprintln(os.Stderr, "mutate: baseline (both stages, unmutated, -count=1; unless measured on this very tree)...")
			cached, err := r.BaselineCached(ctx, filepath.Join(outDir, "baseline.json"), key)
			if err != nil {
				return err
			}
			if cached {
				fmt.Fprintf(os.Stderr, "mutate: baseline from %s (same tree and flags: it passed)\n", filepath.Join(outDir, "baseline.json"))
			}
			for _, st := range []mutate.Stage{r.Campaign, r.Unit} {
				fmt.Fprintf(os.Stderr, "mutate: stage %s: baseline %.1f s CPU; CPU limit %.1f s (%g× + %s); wall limit %s\n",
					st.Name, st.BaselineCPU.Seconds(), st.CPULimit.Seconds(), c.cpuFactor, c.cpuMargin, timeout)
			}
			return nil
		}
	}
	out, err := sch.Execute(ctx)
	if err != nil {
		return err
	}
	if out.Tested > 0 {
		fmt.Fprintf(os.Stderr, "mutate: %d mutants tested in %.0f s elapsed, %d at a time\n", out.Tested, time.Since(start).Seconds(), jobs)
	}
	if out.Beyond > 0 {
		fmt.Fprintf(os.Stderr, "mutate: %d results recorded past the first untested mutant are kept for the next run, not counted below\n", out.Beyond)
	}
	fmt.Printf("sample seed %d, size %d, results %s\n", seed, n, resultsPath)
	mutate.Summarize(generated, dups, len(sample), out.Done, eq).Write(os.Stdout, eq)
	return nil
}

// listPackages expands go package patterns to "./dir" paths from root.
func listPackages(root string, patterns ...string) ([]string, error) {
	cmd := exec.Command("go", append([]string{"list", "-f", "{{.Dir}}"}, patterns...)...)
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list %s: %w", strings.Join(patterns, " "), err)
	}
	var pkgs []string
	for _, dir := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, "./"+filepath.ToSlash(rel))
	}
	return pkgs, nil
}

// checkApplies fails before any test runs when the enumeration does not
// match today's source.
func checkApplies(ms []mutate.Mutant) error {
	for _, m := range ms {
		src, err := os.ReadFile(filepath.FromSlash(m.File))
		if err != nil {
			return err
		}
		if _, err := mutate.Apply(src, m); err != nil {
			return fmt.Errorf("%w (the gremlins enumeration is older than the source: delete mutate-out/*.json and rerun make mutate)", err)
		}
	}
	return nil
}
