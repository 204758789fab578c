// Command mutate runs a seeded sample of Gremlins' mutants of sync/store
// and sync/engine against the campaign tests, then the unit tests, and
// prints the mutation score (docs/MUTATION.md). `make mutate` runs it.
//
// Results go to a JSON-lines file, one line per mutant; a rerun with the
// same file, seed and sample size tests only the mutants not yet in it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
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
	flag.Parse()
	if err := run(enums, *n, *seed, *results, *equivalent, *campaignRun, *campaignShort, *timeout, *budget, *summaryOnly, *skipBaseline); err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(1)
	}
}

func run(enums []string, n int, seed uint64, resultsPath, eqPath, campaignRun string, campaignShort bool,
	timeout, budget time.Duration, summaryOnly, skipBaseline bool) error {
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

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	var done []mutate.Result
	baselined := skipBaseline || summaryOnly
	for i, m := range sample {
		sha, _, err := r.SourceHash(m)
		if err != nil {
			return err
		}
		if res, ok := rs.Lookup(m, sha); ok {
			done = append(done, res)
			continue
		}
		if summaryOnly || (budget > 0 && time.Since(start) > budget) || ctx.Err() != nil {
			break // the summary covers the prefix tested so far
		}
		if !baselined {
			fmt.Fprintln(os.Stderr, "mutate: baseline (both stages, unmutated)...")
			if err := r.Baseline(ctx); err != nil {
				return err
			}
			baselined = true
		}
		res, err := r.Run(ctx, m)
		if errors.Is(err, context.Canceled) {
			break
		}
		if err != nil {
			return err
		}
		if err := rs.Add(res); err != nil {
			return err
		}
		done = append(done, res)
		fmt.Fprintf(os.Stderr, "[%d/%d] %-16s %5.0fs %5.0fs CPU %s %s→%s  %s\n", i+1, len(sample), res.Outcome, res.Seconds, res.CPUSeconds, m.ID(), res.From, res.To, res.Failed)
	}
	fmt.Printf("sample seed %d, size %d, results %s\n", seed, n, resultsPath)
	mutate.Summarize(generated, dups, len(sample), done, eq).Write(os.Stdout, eq)
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
