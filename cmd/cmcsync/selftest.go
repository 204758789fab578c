package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cmcsync/cmcsync/config"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/hal/haltest"
	"github.com/cmcsync/cmcsync/hal/mtd"
	"github.com/cmcsync/cmcsync/internal/chipstate"
	"github.com/cmcsync/cmcsync/internal/devlock"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/internal/shellquote"
	"github.com/cmcsync/cmcsync/sim"
)

func init() {
	register(command{name: "selftest", summary: "run the HAL conformance checks on a flash device (destructive)", run: runSelftest})
}

// runSelftest runs haltest.Check on the flash a spec names and prints one
// line per check; the last line is "selftest: N checks passed" or says
// which checks failed (exit status 1).
func runSelftest(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("selftest", stderr,
		"usage: cmcsync selftest --flash SPEC [--check NAME,...] [--config FILE] [--force]",
		"\nRuns the HAL conformance checks on the device. It erases and programs a few",
		"blocks at the start, middle and end: their contents are lost. On an MTD device",
		"it refuses (exit 3) a partition whose name says a board boots from it (u-boot,",
		"env, kernel, rootfs, ...) and, given --config, one the file does not name as a",
		"chip, unless --force.")
	spec := fs.String("flash", "", "flash to test: "+flashspec.Usage+" (its contents are destroyed)")
	only := fs.String("check", "", "comma-separated checks to run (default all): "+strings.Join(checkNames(), ", "))
	cfgPath := fs.String("config", "", "configuration `FILE`: an MTD device must be one of its chips (else --force)")
	force := fs.Bool("force", false, "run on an MTD device that the configuration does not name, or whose partition name says a board boots from it")
	if done, err := parseFlags(fs, args); done {
		return err
	}
	s, err := flashFlag("selftest", *spec)
	if err != nil {
		return err
	}
	var names []string
	if *only != "" {
		names = strings.Split(*only, ",")
		for _, n := range names {
			if !contains(checkNames(), n) {
				return usageError("selftest: unknown check %q (known: %s)", n, strings.Join(checkNames(), ", "))
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	if s.Backend == flashspec.MTD {
		if err := checkScratch("selftest", s.Device, *cfgPath, *force); err != nil {
			return err
		}
	}
	// The device is erased in places: no other cmcsync may be driving it.
	locks, err := lockChips(s)
	if err != nil {
		return fmt.Errorf("selftest: %w", err)
	}
	defer locks.Unlock()
	// A simulated chip's image file that does not exist is created by the
	// open (and a wear file beside one that has none): a selftest that
	// fails removes them again (before the lock is released), and never a
	// file that was there.
	created := newSimFiles(*spec)
	f, err := openSelftestFlash(s, nil)
	if err != nil {
		err = errors.Join(err, removeFiles(created))
		if err := busyChip(err, [2]flashspec.Spec{s}); errors.Is(err, devlock.ErrBusy) {
			return fmt.Errorf("selftest: %w", err)
		}
		if errors.Is(err, sim.ErrImageMismatch) {
			// An image file of another size than the spec's chip is bad
			// input (exit 2), as for every other command.
			return fmt.Errorf("selftest: %w", err)
		}
		return &exitError{code: 1, msg: fmt.Sprintf("selftest: %v", err)}
	}
	closed := false
	defer func() {
		if !closed {
			hal.Close(f)
		}
		if err != nil {
			if rerr := removeFiles(created); rerr != nil {
				err = errors.Join(err, fmt.Errorf("selftest: %w", rerr))
			}
		}
	}()
	fmt.Fprintf(stdout, "selftest: %s: %v\n", s, f.Geometry())

	rep, checkErr := haltest.CheckNamed(f, names...)
	width := 0
	for _, r := range rep.Results {
		width = max(width, len(r.Name))
	}
	for _, r := range rep.Results {
		detail := r.Summary
		switch r.Status {
		case haltest.Failed:
			detail = r.Err.Error()
		case haltest.NotApplicable:
			detail = r.Reason
		}
		fmt.Fprintf(stdout, "%-4s  %-*s  %s\n", r.Status, width, r.Name, detail)
	}
	if st, ok := hal.StatsOf(f); ok {
		// Bytes as numbers with their unit: FormatSize wrote "(200391)"
		// beside "(3722KiB)", a bare count a reader took for operations.
		fmt.Fprintf(stdout, "selftest: %d reads (%d bytes), %d programs (%d bytes), %d erases, device time %v\n",
			st.Reads, st.BytesRead, st.Programs, st.BytesProgrammed, st.Erases, st.Elapsed)
	}
	if checkErr != nil && len(rep.Failed()) == 0 {
		// The device could not be tested at all (too small, invalid geometry).
		return &exitError{code: 1, msg: fmt.Sprintf("selftest: %s: %v", s, checkErr)}
	}
	if failed := rep.Failed(); len(failed) > 0 {
		fn := make([]string, len(failed))
		for i, r := range failed {
			fn[i] = r.Name
		}
		fmt.Fprintf(stdout, "selftest: %d of %d checks failed: %s\n", len(failed), rep.Ran(), strings.Join(fn, ", "))
		fmt.Fprintf(stdout, "replay: %s\n", shellquote.Join("cmcsync", "selftest", "--flash", s.String(), "--check", strings.Join(fn, ",")))
		return &exitError{code: 1, msg: fmt.Sprintf("selftest failed on %s: %s", s, strings.Join(fn, ", "))}
	}
	closed = true
	if err := hal.Close(f); err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("selftest: close: %v", err)}
	}
	fmt.Fprintf(stdout, "selftest: %d checks passed\n", rep.Passed())
	return nil
}

// openSelftestFlash opens the device under test; tests substitute broken
// devices.
var openSelftestFlash = flashspec.Open

func checkNames() []string {
	var out []string
	for _, c := range haltest.Checks() {
		out = append(out, c.Name)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// procMTD is where checkScratch reads the partition names (a test points
// it at a list of its own).
var procMTD = mtd.ProcMTD

// checkScratch refuses a selftest or calibrate (action) on an MTD device
// the configuration file (if given) does not name as a chip, or whose
// partition name says a board boots from it, unless forced
// (chipstate.CheckScratch).
func checkScratch(action, dev, cfgPath string, force bool) error {
	name, err := mtd.NameOf(procMTD, dev)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s: %w", action, err)
	}
	var configured []string
	if cfgPath != "" {
		f, err := config.Load(cfgPath)
		if err != nil {
			return fmt.Errorf("%s: %w", action, err)
		}
		configured = []string{}
		for _, flagName := range []string{"primary", "backup"} {
			if st, ok := f.Lookup(flagName); ok {
				sp, err := resolveSpec(action, flagName, st.Value)
				if err != nil {
					return err
				}
				if sp.Backend == flashspec.MTD {
					configured = append(configured, sp.Device)
				}
			}
		}
	}
	if err := chipstate.CheckScratch(action, dev, name, configured, force); err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	return nil
}
