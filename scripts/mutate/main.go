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

func main() {
	var enums enumFlag
	flag.Var(&enums, "enum", "gremlins dry-run output `FILE=PKGDIR` (repeatable), e.g. mutate-out/store.json=sync/store")
	n := flag.Int("n", 300, "sample size")
	seed := flag.Uint64("seed", 1, "sample seed")
	results := flag.String("results", "mutate-out/results.jsonl", "results file (kept across runs: a rerun continues)")
	equivalent := flag.String("equivalent", "scripts/mutate/equivalent.txt", "list of mutants judged equivalent, with reasons")
	campaignRun := flag.String("campaign-run", "", "go test -run pattern for the campaign stage")
	campaignShort := flag.Bool("campaign-short", false, "run the campaign stage with -short")
	timeout := flag.Duration("timeout", 10*time.Minute, "wall-time bound of one stage for one mutant (past it: killed, timed out)")
	budget := flag.Duration("budget", 0, "stop starting new mutants after this long (0: no bound); rerun to continue")
	summaryOnly := flag.Bool("summary", false, "print the summary of the results file and test nothing")
	skipBaseline := flag.Bool("skip-baseline", false, "do not check first that the stages pass unmutated")
	jobs := flag.Int("jobs", runtime.NumCPU(), "mutants tested at once, each with GOMAXPROCS=max(1, CPUs/jobs) unless GOMAXPROCS is set")
	flag.Parse()
	if err := run(enums, *n, *seed, *results, *equivalent, *campaignRun, *campaignShort, *timeout, *budget, *summaryOnly, *skipBaseline, *jobs); err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(1)
	}
}

func run(enums []string, n int, seed uint64, resultsPath, eqPath, campaignRun string, campaignShort bool,
	timeout, budget time.Duration, summaryOnly, skipBaseline bool, jobs int) error {
	if jobs < 1 {
		return fmt.Errorf("-jobs %d: want at least 1", jobs)
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
	campaignArgs := []string{"-count=1", "-timeout", (timeout - 30*time.Second).String()}
	if campaignShort {
		campaignArgs = append(campaignArgs, "-short")
	}
	if campaignRun != "" {
		campaignArgs = append(campaignArgs, "-run", campaignRun)
	}
	r := &mutate.Runner{
		Go: "go", Root: root, Scratch: scratch, Timeout: timeout,
		Campaign: mutate.Stage{Name: "campaign", Args: append(campaignArgs, "./faults/campaign")},
		Unit: mutate.Stage{Name: "unit", Args: []string{"-timeout", (timeout - 30*time.Second).String(),
			"./sync/...", "./faults", "./faults/reference/..."}},
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
			fmt.Fprintln(os.Stderr, "mutate: baseline (both stages, unmutated)...")
			return r.Baseline(ctx)
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

// checkApplies fails before any test runs when the enumeration does not
// match today's source.
func checkApplies(ms []mutate.Mutant) error {
	for _, m := range ms {
		src, err := os.ReadFile(filepath.FromSlash(m.File))
		if err != nil {
			return err
		}
		if _, err := mutate.Apply(src, m); err != nil {
			return fmt.Errorf("%w (the gremlins enumeration is older than the source: rerun make mutate)", err)
		}
	}
	return nil
}
