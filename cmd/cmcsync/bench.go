package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/cmcsync/cmcsync/bench"
	"github.com/cmcsync/cmcsync/sim"
)

func init() {
	register(command{name: "bench", summary: "sync cost of the engine vs flashcp, flashcp -p, flashrom and the floors, on simulated parts", run: runBench})
}

// runBench measures sync strategies on simulated flash parts and prints a
// table (or JSON), writing report.json, table.txt and plots to --out.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", stderr,
		"usage: cmcsync bench [--parts LIST] [--part-file PATH]... [--allow-implausible] [--sizes LIST] [--timings LIST] [--erase-models LIST] [--workloads LIST] [--json] [--out DIR] [--quick] [--check] [--wear] [--wear-rounds N]",
		"\nMeasures one sync after a change of the primary's information region, on simulated",
		"NOR parts in virtual time, under the erase unit of the Linux MTD layer (4k or 64k):",
		"the cmcsync engine, a full copy as mtd-utils flashcp does it, a per-erase-block diff",
		"in place as flashcp -p does it, flashrom's finer diff, the rewrite floor and the",
		"physical floor. The engine's store is measured in steady state (no pre-erased blocks left).",
		"--check judges the targets on the rows (gated on the 4k model, reported for 64k) and",
		"exits with status 1 if one is missed or not measured; it also runs the wear target (e):",
		"--wear-rounds rounds of cmc-10m (default 10000) on an 8 MiB region of the MX66L1G45G,",
		"after which the backup store's most-erased block must have at most 2× the mean erases.",
		"--wear runs that measurement alone (with --check: judged, exit 1 if missed).",
		"--part-file runs a part profile (as cmcsync calibrate writes it) instead of the table's",
		"parts (beside them with --parts); a profile that is physically implausible for NOR flash",
		"is refused unless --allow-implausible, which runs it with a warning.",
		"\nflags:")
	parts := fs.String("parts", strings.Join(bench.DefaultParts(), ","), "comma-separated sim part names")
	sizes := fs.String("sizes", "1M,8M,32M", "comma-separated info region sizes")
	timings := fs.String("timings", "typical,max", "timing corners: typical, max or both")
	eraseModels := fs.String("erase-models", strings.Join(bench.DefaultEraseModels(), ","), "erase units of the Linux MTD layer: 4k (CONFIG_MTD_SPI_NOR_USE_4K_SECTORS, the default kernel), 64k or both")
	workloads := fs.String("workloads", "", "comma-separated workload names (default: all; see the table)")
	strategies := fs.String("strategies", "", "comma-separated strategies among engine,flashcp,flashcp-p,flashrom (default: all; the floors are always computed)")
	asJSON := fs.Bool("json", false, "print the report as JSON instead of the table")
	out := fs.String("out", "bench-out", "folder for report.json, table.txt and the plots (PNG and SVG); \"\" writes none")
	quick := fs.Bool("quick", false, "a short run: mx66l1g45g and w25q256jv, typical timings, 1 and 8 MiB, five workloads")
	seed := fs.Uint64("seed", 1, "seed of every random choice (generator, mutations, simulator)")
	check := fs.Bool("check", false, "print the targets' worst rows and exit with status 1 if a gated target is missed or not measured")
	progress := fs.Bool("progress", false, "print a line per finished scenario on stderr")
	wearOnly := fs.Bool("wear", false, "run only the wear measurement (target (e)): --wear-rounds rounds of cmc-10m, 8 MiB, mx66l1g45g, 4k")
	wearRounds := fs.Int("wear-rounds", bench.WearRounds, "rounds of the wear measurement that --check and --wear run")
	var partFiles pathList
	fs.Var(&partFiles, "part-file", "a part profile `PATH` (JSON, as cmcsync calibrate writes it) to benchmark; repeatable")
	allowImplausible := fs.Bool("allow-implausible", false, "run part profiles that are physically implausible for NOR flash (an emulator's), with a warning")
	if done, err := parseFlags(fs, args); done {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	cfg := bench.Config{Seed: *seed}
	if *quick {
		cfg = bench.Quick(*seed)
	}
	switch {
	case set["parts"] || (!*quick && len(partFiles) == 0):
		cfg.Parts = benchList(*parts)
	case len(partFiles) > 0:
		cfg.Parts = nil // the profiles alone
	}
	for _, path := range partFiles {
		p, err := loadPartFile(path)
		if err != nil {
			return usageError("bench: --part-file: %v", err)
		}
		cfg.Profiles = append(cfg.Profiles, p)
	}
	cfg.AllowImplausible = *allowImplausible
	if !*quick || set["timings"] {
		cfg.Timings = benchList(*timings)
	}
	if !*quick || set["erase-models"] {
		cfg.EraseModels = benchList(*eraseModels)
	}
	if !*quick || set["sizes"] {
		s, err := bench.ParseSizes(*sizes)
		if err != nil {
			return usageError("bench: --sizes: %v", err)
		}
		cfg.Sizes = s
	}
	if len(partFiles) > 0 && !set["erase-models"] {
		cfg.EraseModels = supportedEraseModels(cfg)
	}
	if *workloads != "" {
		w, err := bench.LookupWorkloads(benchList(*workloads))
		if err != nil {
			return usageError("bench: --workloads: %v", err)
		}
		cfg.Workloads = w
	}
	if *strategies != "" {
		cfg.Strategies = benchList(*strategies)
	}
	if *progress {
		cfg.Progress = func(line string) { fmt.Fprintln(stderr, "bench:", line) }
	}
	if *wearRounds < 1 {
		return usageError("bench: --wear-rounds %d: want at least 1", *wearRounds)
	}
	if *wearOnly {
		return runWear(ctx, *wearRounds, *seed, *asJSON, *check, *progress, stdout, stderr)
	}
	if err := cfg.Validate(); err != nil {
		return usageError("bench: %v", err)
	}
	if *out != "" {
		// Checked before the benchmark runs, not after it.
		if st, err := os.Stat(*out); err == nil && !st.IsDir() {
			return usageError("bench: --out %s is there and not a folder: give a folder (made if missing) for report.json, table.txt and the plots", *out)
		}
	}
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if *check {
		w, err := bench.Wear(ctx, wearConfig(*wearRounds, *seed, *progress, stderr))
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		rep.AddWear(w)
	}
	for _, w := range rep.Warnings {
		fmt.Fprintln(stderr, "bench: WARNING:", w)
	}
	if *asJSON {
		if err := rep.WriteJSON(stdout); err != nil {
			return err
		}
	} else if err := rep.WriteTable(stdout); err != nil {
		return err
	}
	if *out != "" {
		paths, err := writeBenchFiles(rep, *out)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		fmt.Fprintf(stderr, "bench: wrote %d files to %s\n", len(paths), *out)
	}
	if *check {
		if !*asJSON {
			fmt.Fprintln(stdout)
			if err := rep.WriteTargets(stdout); err != nil {
				return err
			}
		}
		return checkFailed(rep)
	}
	return nil
}

// checkFailed returns the exit error of bench --check when a gated target
// of rep is missed or not measured, else nil.
func checkFailed(rep *bench.Report) error {
	failed := rep.Failed()
	if len(failed) == 0 {
		return nil
	}
	ids := make([]string, len(failed))
	for i, t := range failed {
		ids[i] = "(" + t.ID + ") " + t.Status()
	}
	return &exitError{code: 1, msg: fmt.Sprintf("bench: %d gated target(s) missed or not measured: %s", len(failed), strings.Join(ids, ", "))}
}

// wearConfig is the wear measurement of target (e).
func wearConfig(rounds int, seed uint64, progress bool, stderr io.Writer) bench.WearConfig {
	c := bench.WearConfig{Rounds: rounds, Seed: seed}
	if progress {
		c.Progress = func(done int) { fmt.Fprintf(stderr, "bench: wear: %d of %d rounds\n", done, rounds) }
	}
	return c
}

// runWear is bench --wear: the wear measurement alone, as a line (and,
// with check, the target's table) or as JSON (the report's wear and
// targets).
func runWear(ctx context.Context, rounds int, seed uint64, asJSON, check, progress bool, stdout, stderr io.Writer) error {
	w, err := bench.Wear(ctx, wearConfig(rounds, seed, progress, stderr))
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	rep := &bench.Report{Seed: seed}
	rep.AddWear(w)
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Wear    *bench.WearReport `json:"wear"`
			Targets []bench.Target    `json:"targets"`
		}{rep.Wear, rep.Targets}); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(stdout, w.Line())
		if check {
			fmt.Fprintln(stdout)
			if err := rep.WriteTargets(stdout); err != nil {
				return err
			}
		}
	}
	if check {
		return checkFailed(rep)
	}
	return nil
}

// writeBenchFiles writes report.json, table.txt and the plots into dir,
// all or nothing: they are written into a temporary folder in dir first,
// a name in dir that is not a regular file is refused before any is moved
// into place, and on an error the folders it made (dir and its missing
// parents) are removed again. A file that was in dir is replaced only by
// a complete one, each synced and renamed into place as an outFile is
// (renameSynced).
func writeBenchFiles(rep *bench.Report, dir string) (paths []string, err error) {
	made, err := mkdirAllNew(dir, 0o755)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			for i := len(made) - 1; i >= 0; i-- {
				os.Remove(made[i]) // only when empty: nothing of others is lost
			}
		}
	}()
	tmp, err := os.MkdirTemp(dir, ".bench-out-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	var names []string
	for _, name := range []string{"report.json", "table.txt"} {
		write := rep.WriteJSON
		if name == "table.txt" {
			write = rep.WriteTable
		}
		f, err := os.Create(filepath.Join(tmp, name))
		if err != nil {
			return nil, err
		}
		err = write(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
		}
		names = append(names, name)
	}
	plots, err := rep.WritePlots(tmp)
	if err != nil {
		return nil, err
	}
	for _, p := range plots {
		names = append(names, filepath.Base(p))
	}
	for _, n := range names {
		if st, err := os.Lstat(filepath.Join(dir, n)); err == nil && !st.Mode().IsRegular() {
			return nil, fmt.Errorf("write %s: it is there and not a regular file (nothing written)", filepath.Join(dir, n))
		}
	}
	for _, n := range names {
		if err := syncFile(filepath.Join(tmp, n)); err != nil {
			return nil, fmt.Errorf("write %s: %w", filepath.Join(dir, n), err)
		}
	}
	for _, n := range names {
		p := filepath.Join(dir, n)
		if err := renameSynced(filepath.Join(tmp, n), p); err != nil {
			return paths, fmt.Errorf("write %s: %w", p, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// pathList is a repeatable flag of paths (which may hold commas).
type pathList []string

func (l *pathList) String() string { return strings.Join(*l, " ") }

func (l *pathList) Set(s string) error {
	if s == "" {
		return fmt.Errorf("empty path")
	}
	*l = append(*l, s)
	return nil
}

// loadPartFile loads a part profile file as a part: well-formed (its
// plausibility is the bench's to judge, with --allow-implausible).
func loadPartFile(path string) (sim.Part, error) {
	pr, err := sim.LoadProfile(path)
	if err != nil {
		return sim.Part{}, err
	}
	return pr.Part()
}

// supportedEraseModels returns the default erase models every part of
// cfg has: a profile calibrated under a kernel with 4 KiB sectors has no
// block erase, so its default is 4k alone.
func supportedEraseModels(cfg bench.Config) []string {
	var out []string
	for _, m := range sim.EraseModels() {
		ok := true
		for _, p := range cfg.Profiles {
			if _, err := p.EraseUnit(m); err != nil {
				ok = false
			}
		}
		for _, name := range cfg.Parts {
			if p, err := sim.LookupPart(name); err == nil {
				if _, err := p.EraseUnit(m); err != nil {
					ok = false
				}
			}
		}
		if ok {
			out = append(out, m.String())
		}
	}
	return out
}

// benchList splits a comma-separated flag value, dropping empty items.
func benchList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
