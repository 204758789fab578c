package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/calibrate"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/internal/shellquote"
	"github.com/cmcsync/cmcsync/sim"
)

func init() {
	register(command{name: "calibrate", summary: "measure a flash device's timings on a scratch range (destructive there) and write a part profile", run: runCalibrate})
}

// runCalibrate measures the device a spec names on the scratch range the
// user gives, prints the statistics and the derived profile, and writes
// the profile as JSON (sim.Profile) for sim:profile=PATH and bench
// --part-file.
func runCalibrate(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("calibrate", stderr,
		"usage: cmcsync calibrate --flash SPEC --scratch OFFSET+SIZE [--out PATH] [--name NAME] [--reps N] [--emulated] [--force]",
		"\nTimes reads, page programs, erases of the erase size and (where the driver erases",
		"64 KiB with one command) 64 KiB erases on the scratch range, and writes a part profile:",
		"typical = median, max = observed maximum, bus rate and command overhead fitted to the",
		"reads. The scratch range is ERASED and programmed: its contents are lost. Nothing",
		"outside it is read or written. It must be given, whole erase blocks, inside the device.",
		"On an MTD device it refuses (exit 3), unless --force, a partition whose name says a",
		"board boots from it (u-boot, env, kernel, rootfs, bmc, ...), as selftest does.",
		"\nflags:")
	spec := fs.String("flash", "", "device to measure: "+flashspec.Usage)
	scratchText := fs.String("scratch", "", "the range calibration may erase and program, `OFFSET+SIZE` (e.g. 0x7f00000+1M); required")
	out := fs.String("out", "", "profile file to write (\"-\": standard output); default NAME.json")
	name := fs.String("name", "", "the profile's part name (default calibrated-DEVICE)")
	def := calibrate.DefaultPlan(calibrate.Range{})
	reps := fs.Int("reps", def.Reps, fmt.Sprintf("timed repetitions of each operation (at least %d)", calibrate.MinReps))
	warmup := fs.Int("warmup", def.Warmup, "repetitions run first and not counted")
	blockReps := fs.Int("block-reps", def.BlockReps, "timed 64 KiB erases (0: none)")
	seed := fs.Uint64("seed", def.Seed, "seed of the data programmed")
	emulated := fs.Bool("emulated", false, "label the profile as measured on an emulator (QEMU), not a chip")
	force := fs.Bool("force", false, "run on an MTD device whose partition name says a board boots from it (u-boot, env, kernel, rootfs, ...)")
	if done, err := parseFlags(fs, args); done {
		return err
	}
	s, err := flashFlag("calibrate", *spec)
	if err != nil {
		return err
	}
	if *scratchText == "" {
		return usageError("calibrate: %v: --scratch OFFSET+SIZE is required; calibration erases that range and nothing else, so it never picks one itself", calibrate.ErrNoScratch)
	}
	scratch, err := calibrate.ParseRange(*scratchText)
	if err != nil {
		return usageError("calibrate: --scratch: %v", err)
	}
	plan := calibrate.Plan{Scratch: scratch, Reps: *reps, Warmup: *warmup, BlockReps: *blockReps, Seed: *seed}
	// A scratch range on the bootloader's partition (a mistyped device)
	// erases it: refused as selftest refuses it, before the device opens.
	if s.Backend == flashspec.MTD {
		if err := checkScratch("calibrate", s.Device, "", *force); err != nil {
			return err
		}
	}

	var clock calibrate.Clock = hal.SystemClock{}
	clockName := "monotonic"
	var simClock *sim.Clock
	if s.Backend == flashspec.Sim {
		simClock = sim.NewClock(time.Unix(0, 0).UTC())
		clock, clockName = simClock, "virtual"
	}
	// A simulated chip's image file that does not exist is created by the
	// open (and a wear file beside one that has none): a failed
	// calibration removes them again, and never a file that was there.
	created := newSimFiles(*spec)
	f, err := flashspec.Open(s, simClock)
	if err != nil {
		err = errors.Join(err, removeFiles(created))
	}
	if errors.Is(err, sim.ErrImageMismatch) {
		return fmt.Errorf("calibrate: %w", err) // bad input: exit 2
	}
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("calibrate: %v", err)}
	}
	defer func() {
		cerr := hal.Close(f)
		if err != nil {
			cerr = errors.Join(cerr, removeFiles(created))
		}
		if cerr != nil {
			err = errors.Join(err, fmt.Errorf("calibrate: %w", cerr))
		}
	}()
	g := f.Geometry()
	if err := plan.Check(g); err != nil {
		return usageError("calibrate: %s: %v", s, err)
	}
	meta := calibrate.Meta{Name: *name, Device: s.String(), At: time.Now(), Clock: clockName, Emulated: *emulated}
	path := *out
	if path == "" {
		path = meta.Name + ".json"
		if meta.Name == "" {
			path = calibrate.DefaultName(g.Name) + ".json"
		}
	}
	// The output is checked, and its temporary file made, before the
	// measurement rather than after it; a failed calibration removes it.
	var of *outFile
	if path != "-" {
		if of, err = createOut("calibrate", "--out", path, chipFile{"flash", *spec}); err != nil {
			return err
		}
		defer func() {
			if err != nil {
				of.Abort()
			}
		}()
	}
	// With --out - standard output carries the profile alone: every other
	// line goes to standard error.
	text := stdout
	if path == "-" {
		text = stderr
	}
	fmt.Fprintf(text, "calibrate: will ERASE and program %s bytes %#x to %#x (%s, %d erase blocks of %s): their contents are lost. Nothing outside this range is read or written.\n",
		s, scratch.Off, scratch.End()-1, hal.FormatSize(scratch.Size), scratch.Size/g.EraseSize, hal.FormatSize(g.EraseSize))

	res, err := calibrate.Run(ctx, f, plan, clock, func(line string) { fmt.Fprintln(stderr, "calibrate:", line) })
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("calibrate: %s: %v", s, err)}
	}
	pr, err := res.Profile(meta)
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("calibrate: %v", err)}
	}
	// Every step that can fail comes before the profile is written: a
	// failed calibration writes no --out file.
	part, err := pr.Part()
	if err != nil {
		return err
	}
	if err := res.WriteText(text, pr); err != nil {
		return err
	}
	if err := writeProfile(of, pr, stdout); err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	if err := part.CheckPlausible(); err != nil {
		fmt.Fprintf(text, "calibrate: IMPLAUSIBLE: %v\ncalibrate: sim:profile= and cmcsync bench refuse it; cmcsync bench --allow-implausible runs it with a warning\n", err)
	} else {
		fmt.Fprintf(text, "calibrate: the profile is physically plausible for %s flash\n", strings.ToUpper(part.Kind.String()))
	}
	if path != "-" {
		spec := flashspec.Spec{Backend: flashspec.Sim, Profile: path}.String()
		fmt.Fprintf(text, "calibrate: wrote %s; use it with `%s`, or `%s`\n", path,
			shellquote.Join("cmcsync", "bench", "--part-file", path), shellquote.Join("--flash", spec))
	}
	return nil
}

// writeProfile writes pr to of, or to stdout when of is nil (--out -);
// of replaces its target only once the whole profile is in it.
func writeProfile(of *outFile, pr sim.Profile, stdout io.Writer) error {
	var buf bytes.Buffer
	if err := pr.Encode(&buf); err != nil {
		return fmt.Errorf("calibrate: encode the profile: %w", err)
	}
	if of == nil {
		_, err := stdout.Write(buf.Bytes())
		return err
	}
	if _, err := of.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("calibrate: --out: write %s: %w", of.path, err)
	}
	return of.Commit()
}
