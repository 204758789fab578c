package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/cmcsync/cmcsync/faults/campaign"
	"github.com/cmcsync/cmcsync/internal/shellquote"
	"github.com/cmcsync/cmcsync/sync/engine"
)

func init() {
	register(command{name: "campaign", summary: "run fault campaigns against the sync engine (exhaustive, random, replay, merge)", run: runCampaign})
}

func runCampaign(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	if len(args) > 0 && args[0] == "merge" {
		return runCampaignMerge(args[1:], stdout, stderr)
	}
	fs := newFlagSet("campaign", stderr,
		"usage: cmcsync campaign [flags]\n       cmcsync campaign merge [--json] REPORT.json...",
		"\nRuns a scenario's sync round under injected faults (exhaustive: a power cut, its torn",
		"variants and the primary's failures at every flash operation; random: --count seeded",
		"schedules), recovers after each, and judges the backup with an oracle that decodes it",
		"on its own (docs/DESIGN.md, Invariants). Every violation prints the --replay line that",
		"runs it again. Exit status 1 if a violation was found. merge joins the --json reports",
		"of a campaign's --shard runs (cmcsync help campaign merge).\n\nflags:")
	mode := fs.String("mode", "exhaustive", "exhaustive (a power cut and its torn variants at every flash operation of the round) or random")
	scenario := fs.String("scenario", "standard", "scenario: "+scenarioNames())
	seed := fs.Uint64("seed", 1, "seed of the scenario's information and of random schedules")
	count := fs.Int("count", 100, "random mode: schedules to run")
	depth := fs.Int("depth", 1, "exhaustive mode: 2 also cuts at every operation of the recovery after each cut")
	shard := fs.String("shard", "", "run shard K/N (0 <= K < N) of the points; default from JOB_COMPLETION_INDEX/CMCSYNC_SHARDS, else 0/1")
	workers := fs.Int("workers", 0, "points run side by side, each on its own chips (0: one per CPU)")
	mutant := fs.String("mutant", "none", "engine variant to test (see --list-mutants)")
	listMutants := fs.Bool("list-mutants", false, "list the deliberately broken engine variants and exit")
	replay := fs.String("replay", "", "run one replay line and print what every invariant saw")
	selfTest := fs.Bool("self-test", false, "run the oracle's self-test: make the state after a run wrong in each invariant's way and show that invariant fires")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	liveEvery := fs.Int("live-every", 1, "check the live invariant (a full round after recovery) at every Nth point")
	keep := fs.Int("keep", 100, "violations listed in the report (all are counted)")
	stopAfter := fs.Int("stop-after", 0, "stop once this many violations were found (0: run every point)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the campaign to this file (for go tool pprof)")
	if done, err := parseFlags(fs, args); done {
		return err
	}
	if *listMutants {
		for _, m := range engine.Mutants() {
			if m.Mutant == engine.None {
				continue
			}
			fmt.Fprintf(stdout, "%-22s %s\n", m.Name, m.Description)
		}
		return nil
	}
	if flagGiven(fs, "replay") {
		return runReplay(ctx, *replay, *asJSON, stdout)
	}
	if *selfTest {
		return runSelfTest(ctx, *scenario, *seed, *asJSON, stdout)
	}
	m, err := campaign.ParseMode(*mode)
	if err != nil {
		return usageError("campaign: --mode: %v", err)
	}
	if _, err := campaign.LookupScenario(*scenario); err != nil {
		return usageError("campaign: --scenario: %v", err)
	}
	// campaign.Options reads zero as "the default": a negative or zero
	// value given on the command line is refused here rather than run as
	// the default (--count -5 ran 100 schedules).
	for _, c := range []struct {
		name     string
		val, min int
		what     string
	}{
		{"count", *count, 1, "schedules to run"},
		{"workers", *workers, 0, "0 for one per CPU"},
		{"live-every", *liveEvery, 1, "1 checks every point"},
		{"keep", *keep, 0, "violations listed"},
		{"stop-after", *stopAfter, 0, "0 runs every point"},
	} {
		if c.val < c.min {
			return usageError("campaign: --%s %d: want %d or more (%s)", c.name, c.val, c.min, c.what)
		}
	}
	// A flag of the other mode would be silently ignored: the user would
	// believe it ran.
	if m == campaign.Exhaustive && flagGiven(fs, "count") {
		return usageError("campaign: --count is for --mode random (the exhaustive mode runs every point of the round)")
	}
	if m == campaign.Random && flagGiven(fs, "depth") {
		return usageError("campaign: --depth is for --mode exhaustive (random schedules cut the recovery too, at random)")
	}
	mut, err := engine.ParseMutant(*mutant)
	if err != nil {
		return usageError("campaign: --mutant: %v", err)
	}
	sh, err := shardFrom(*shard, os.Getenv)
	if err != nil {
		return usageError("campaign: %v", err)
	}
	o := campaign.Options{Mode: m, Scenario: *scenario, Seed: *seed, Mutant: mut, Depth: *depth, Count: *count,
		Shard: sh, Workers: *workers, LiveEvery: *liveEvery, KeepViolations: *keep, StopAfter: *stopAfter}
	if err := o.Validate(); err != nil {
		return usageError("campaign: %v", err)
	}
	// A campaign allocates many short-lived buffers (every recovery opens
	// the stores afresh): collecting less often saves about a tenth of the
	// CPU time. GOGC, when set, wins.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	progress := newProgress(stderr, fmt.Sprintf("%v %s mutant=%v shard %v", m, *scenario, mut, sh))
	o.Progress = progress.update
	ran := false // campaign.Run gave a report: the profile is kept
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer func() {
			if perr := stop(ran); perr != nil && err == nil {
				err = perr
			}
		}()
	}
	rep, err := campaign.Run(ctx, o)
	progress.finish()
	ran = err == nil
	if errors.Is(err, campaign.ErrOptions) {
		return usageError("campaign: %v", err)
	}
	if err != nil {
		return fmt.Errorf("campaign: %w", err)
	}
	if *asJSON {
		if err := rep.WriteJSON(stdout); err != nil {
			return err
		}
	} else {
		printReport(stdout, rep)
	}
	if !rep.OK() {
		return &exitError{code: 1, msg: fmt.Sprintf("campaign: %d violation(s) found", rep.ViolationsTotal)}
	}
	return nil
}

// startCPUProfile starts writing a CPU profile for path, through an
// outFile; the returned function stops it and, with keep, puts it in
// place, else removes it: a campaign that fails leaves no profile, and a
// file that was at path stays as it was.
func startCPUProfile(path string) (func(keep bool) error, error) {
	of, err := createOut("campaign", "--cpuprofile", path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(of); err != nil {
		of.Abort()
		return nil, fmt.Errorf("campaign: --cpuprofile %s: %w", path, err)
	}
	return func(keep bool) error {
		pprof.StopCPUProfile()
		if !keep {
			of.Abort()
			return nil
		}
		return of.Commit()
	}, nil
}

func scenarioNames() string {
	var names []string
	for _, s := range campaign.Scenarios() {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}

// shardCountVar names the environment variable that gives the number of
// shards beside JOB_COMPLETION_INDEX. A Kubernetes Indexed Job sets only
// the index (JOB_COMPLETION_INDEX, from the pod's
// batch.kubernetes.io/job-completion-index annotation), not the count: the
// Job's manifest sets this variable to its completions (deploy/k8s), as a
// CI matrix sets both.
const shardCountVar = "CMCSYNC_SHARDS"

// shardFrom reads --shard, else JOB_COMPLETION_INDEX of CMCSYNC_SHARDS (an
// indexed job's or a CI matrix's), else 0/1.
func shardFrom(flagValue string, getenv func(string) string) (campaign.Shard, error) {
	if flagValue != "" {
		return campaign.ParseShard(flagValue)
	}
	idx, total := getenv("JOB_COMPLETION_INDEX"), getenv(shardCountVar)
	if idx == "" && total == "" {
		return campaign.Shard{Index: 0, Count: 1}, nil
	}
	if idx == "" || total == "" {
		return campaign.Shard{}, fmt.Errorf("JOB_COMPLETION_INDEX=%q %s=%q: set both (Kubernetes sets only the index: the Job must set %s to its completions), or pass --shard K/N",
			idx, shardCountVar, total, shardCountVar)
	}
	sh, err := campaign.ParseShard(idx + "/" + total)
	if err != nil {
		return campaign.Shard{}, fmt.Errorf("JOB_COMPLETION_INDEX=%q %s=%q: %w", idx, shardCountVar, total, err)
	}
	return sh, nil
}

func runReplay(ctx context.Context, line string, asJSON bool, stdout io.Writer) error {
	if strings.TrimSpace(line) == "" {
		return usageError("campaign: --replay: the replay line is empty (give the line a campaign printed after \"replay:\", in single quotes)")
	}
	c, err := campaign.ParseCase(line)
	if err != nil {
		return usageError("campaign: --replay: %v", err)
	}
	if _, err := campaign.LookupScenario(c.Scenario); err != nil {
		return usageError("campaign: --replay: %v", err)
	}
	st, err := campaign.ReplayStory(ctx, c)
	if err != nil {
		return fmt.Errorf("campaign: replay: %w", err)
	}
	failed := 0
	for _, v := range st.Verdicts {
		if !v.OK {
			failed++
		}
	}
	if asJSON {
		if err := writeJSON(stdout, fromStory(st)); err != nil {
			return err
		}
	} else {
		printStory(stdout, st)
	}
	if failed > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("campaign: replay: %d invariant(s) violated", failed)}
	}
	return nil
}

// printStory prints a replay's story: the round, the rules and where they
// acted, the events, the waits, and the verdicts.
func printStory(w io.Writer, st *campaign.Story) {
	fmt.Fprintf(w, "replay: %s\n", st.Replay)
	r := st.Round
	if r.Outcome == "" {
		fmt.Fprintf(w, "round: ended by a power cut, generation %d attempted, %d flash operations", r.Generation, st.RoundOps)
	} else {
		fmt.Fprintf(w, "round: %s, generation %d, %d flash operations", r.Outcome, r.Generation, st.RoundOps)
	}
	fmt.Fprintf(w, ", %d chunks written, wait-response %v (engine)\n", r.ChangedChunks, r.WaitResponse)
	if r.Anomaly != "" {
		fmt.Fprintf(w, "  anomaly: %s\n", r.Anomaly)
	}
	if r.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", r.Error)
	}
	if st.Wait != "" {
		due := "no failover due"
		if st.FailoverDue {
			due = "failover due"
		}
		fmt.Fprintf(w, "  the oracle's longest wait of the primary: %s: %s\n", st.Wait, due)
	} else {
		fmt.Fprintln(w, "  the oracle: the primary answered every request correctly in time")
	}
	fmt.Fprintln(w, "rules:")
	for _, rs := range st.Rules {
		switch {
		case rs.NeverMatched():
			fmt.Fprintf(w, "  %-9s %s: NEVER MATCHED an operation\n", rs.Phase, rs.Rule)
		case rs.FiredN == 0:
			fmt.Fprintf(w, "  %-9s %s: matched %d operation(s), acted at none (an earlier rule's outcome came first)\n", rs.Phase, rs.Rule, rs.Matched)
		default:
			fmt.Fprintf(w, "  %-9s %s: acted at %d operation(s): %s\n", rs.Phase, rs.Rule, rs.FiredN, strings.Join(rs.Fired, "; "))
		}
	}
	if len(st.Rules) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, d := range st.Damage {
		fmt.Fprintf(w, "damage: %s\n", d)
	}
	printEvents(w, "events in the round:", st.RoundEvents)
	printEvents(w, "events in the recovery:", st.RecoveryEvents)
	fmt.Fprintln(w, "verdicts:")
	for _, v := range st.Verdicts {
		fmt.Fprintln(w, "  "+v.String())
	}
}

func printEvents(w io.Writer, title string, evs []engine.Event) {
	fmt.Fprintln(w, title)
	if len(evs) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, ev := range evs {
		fmt.Fprintf(w, "  %-14s gen=%d %s\n", ev.Kind, ev.Generation, ev.Detail)
	}
}

func runSelfTest(ctx context.Context, scenario string, seed uint64, asJSON bool, stdout io.Writer) error {
	if _, err := campaign.LookupScenario(scenario); err != nil {
		return usageError("campaign: --scenario: %v", err)
	}
	res, err := campaign.SelfTest(ctx, scenario, seed)
	if err != nil {
		return fmt.Errorf("campaign: self-test: %w", err)
	}
	bad := 0
	for _, r := range res {
		if !r.OK {
			bad++
		}
	}
	if asJSON {
		if err := writeJSON(stdout, res); err != nil {
			return err
		}
	} else {
		for _, r := range res {
			verdict := "caught"
			if !r.OK {
				verdict = "NOT CAUGHT"
			}
			fmt.Fprintf(stdout, "%-10s %-17s %s\n  after: %s\n  fired: %s\n  saw: %s\n", verdict, r.Invariant, r.Wrong, r.Replay, strings.Join(r.Fired, ", "), r.Saw)
			if len(r.Unfaulted) > 0 {
				fmt.Fprintf(stdout, "  the run itself broke: %s\n", strings.Join(r.Unfaulted, ", "))
			}
		}
	}
	if bad > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("campaign: self-test: %d wrong state(s) not caught as they should be", bad)}
	}
	return nil
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func runCampaignMerge(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("campaign merge", stderr, `usage: cmcsync campaign merge [--json] OUTPUT...

Merges the reports of one campaign's shards, every shard once. Each OUTPUT
is a shard's --json report, or its whole output with the report in it (a
pod's kubectl logs); errors number the reports in the order given.

Exit status: 0 every shard present and no violation; 1 violations found;
2 outputs that cannot be merged (no report in one, reports of different
campaigns or splits, a shard given twice); 3 shards missing (the merge of
the shards given is printed first).

flags:`)
	asJSON := fs.Bool("json", false, "print the merged report as JSON")
	if err := parseQuiet(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() == 0 {
		return usageError("campaign merge: give the shards' JSON reports (or their logs)")
	}
	var reps []campaign.Report
	for _, p := range fs.Args() {
		data, err := os.ReadFile(p)
		if err != nil {
			return usageError("campaign merge: %v", err)
		}
		r, err := campaign.FindReport(data)
		if err != nil {
			return usageError("campaign merge: %s: %v", p, err)
		}
		reps = append(reps, r)
	}
	m, err := campaign.Merge(reps...)
	missing := errors.Is(err, campaign.ErrMissingShards)
	if err != nil && !missing {
		return usageError("campaign merge: %v", err)
	}
	if *asJSON {
		if err := m.WriteJSON(stdout); err != nil {
			return err
		}
	} else {
		printReport(stdout, &m)
	}
	switch {
	case !m.OK() && missing:
		return &exitError{code: 1, msg: fmt.Sprintf("campaign merge: %d violation(s) found; and %v", m.ViolationsTotal, err)}
	case !m.OK():
		return &exitError{code: 1, msg: fmt.Sprintf("campaign merge: %d violation(s) found", m.ViolationsTotal)}
	case missing:
		return &exitError{code: exitRefused, msg: fmt.Sprintf("campaign merge: %v", err)}
	}
	return nil
}

func printReport(w io.Writer, r *campaign.Report) {
	what := fmt.Sprintf("depth %d", r.Depth)
	if r.Mode == campaign.Random.String() {
		what = fmt.Sprintf("count %d", r.Count)
	}
	fmt.Fprintf(w, "campaign %s %s seed=%d mutant=%s %s, shards %s\n", r.Mode, r.Scenario, r.Seed, r.Mutant, what, strings.Join(r.Shards, ","))
	fmt.Fprintf(w, "  round operations: %d\n  schedules: %d\n  fault points: %d (torn variants %d, recovery cuts %d)\n",
		r.RoundOps, r.Schedules, r.FaultPoints, r.TornVariants, r.RecoveryPoints)
	if len(r.Kinds) > 0 {
		var kinds []string
		for k, n := range r.Kinds {
			kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
		}
		sort.Strings(kinds)
		fmt.Fprintf(w, "  points by kind: %s\n", strings.Join(kinds, " "))
	}
	fmt.Fprintf(w, "  invariants checked:")
	invariants := campaign.Invariants()
	if r.Scenario == campaign.LifecycleScenario {
		invariants = campaign.LifecycleInvariants()
	}
	for _, inv := range invariants {
		fmt.Fprintf(w, " %s=%d", inv, r.Checks[inv])
	}
	fmt.Fprintf(w, "\n  rate: %.0f points/s over %.1f s wall (%.0f points per CPU second)\n", r.PointsPerSecond, r.WallSeconds, r.PointsPerCPUSecond)
	fmt.Fprintf(w, "  violations: %d\n", r.ViolationsTotal)
	for _, v := range r.Violations {
		fmt.Fprintf(w, "VIOLATION %s: %s\n  replay: %s\n", v.Invariant, v.Detail, shellquote.Join("cmcsync", "campaign", "--replay", v.Replay))
	}
	if len(r.Violations) < r.ViolationsTotal {
		fmt.Fprintf(w, "  (%d more not listed; see --keep)\n", r.ViolationsTotal-len(r.Violations))
	}
}

// progress shows a bar on a terminal and a line per 10% otherwise.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	desc  string
	bar   *progressbar.ProgressBar
	tty   bool
	next  int
	start time.Time
}

func newProgress(w io.Writer, desc string) *progress {
	p := &progress{w: w, desc: desc, start: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	return p
}

func (p *progress) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		if p.bar == nil {
			p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription(p.desc),
				progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("points"),
				progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		}
		_ = p.bar.Set(done)
		return
	}
	if total > 0 && done*10 >= p.next*total {
		fmt.Fprintf(p.w, "campaign: %s: %d/%d schedules (%.0f%%) after %.1fs\n", p.desc, done, total, 100*float64(done)/float64(total), time.Since(p.start).Seconds())
		for done*10 >= p.next*total {
			p.next++
		}
	}
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
