package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/cmcsync/cmcsync/faults/campaign"
	"github.com/cmcsync/cmcsync/qemu/assets"
	"github.com/cmcsync/cmcsync/qemu/scenario"
	"github.com/cmcsync/cmcsync/qemu/vm"
	"github.com/cmcsync/cmcsync/sync/engine"
)

func init() {
	register(command{name: "vm", summary: "build the QEMU CMC image, boot it, run scenarios in it", run: runVM})
}

const vmUsage = `usage: cmcsync vm <build|boot|scenario> [flags]

  build                 fetch the Debian kernel, DTB, modules and busybox (cached)
                        and build the initramfs with cmcsync cross-compiled
  boot                  boot the image with an interactive serial console
                        (Ctrl-A X quits QEMU; "reboot -f" ends the guest)
  scenario NAME [--json] run a scenario and check the flash images from the host;
                        NAME is one of: %s

Run "cmcsync vm <sub> -h" for flags.
`

func runVM(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(stdout, vmUsage, strings.Join(scenario.Names(), ", "))
		if len(args) == 0 {
			return usageError("vm: no subcommand given (want build, boot or scenario)")
		}
		return nil
	}
	switch args[0] {
	case "build":
		return runVMBuild(ctx, args[1:], stdout, stderr)
	case "boot":
		return runVMBoot(ctx, args[1:], stdout, stderr)
	case "scenario":
		return runVMScenario(ctx, args[1:], stdout, stderr)
	}
	return usageError("vm: unknown subcommand %q (want build, boot or scenario)", args[0])
}

// vmCommon are the flags every vm subcommand takes.
type vmCommon struct {
	variant string
	cache   string
	src     string
	refresh bool
}

func (c *vmCommon) add(fs *flag.FlagSet) {
	fs.StringVar(&c.variant, "variant", "arm", "machine: arm (fuji-bmc AST2600, SPI NOR) or x86 (nandsim/mtdram)")
	fs.StringVar(&c.cache, "cache", "", "asset cache folder (default $CMCSYNC_CACHE or "+assets.DefaultCacheDir()+")")
	fs.StringVar(&c.src, "src", "", "cmcsync checkout to cross-compile (default: found above the working directory)")
	fs.BoolVar(&c.refresh, "refresh", false, "resolve and download the Debian packages again")
}

// vmImage builds the image a vm subcommand boots (c.build: the Debian
// assets, cmcsync cross-compiled); the tests put a fake image in its place.
var vmImage = func(ctx context.Context, c *vmCommon, progress io.Writer) (*vm.Image, error) {
	return c.build(ctx, progress)
}

func (c *vmCommon) build(ctx context.Context, progress io.Writer) (*vm.Image, error) {
	v, err := assets.LookupVariant(c.variant)
	if err != nil {
		return nil, usageError("vm: %v", err)
	}
	return vm.Build(ctx, vm.BuildOptions{Variant: v, CacheDir: c.cache, Refresh: c.refresh, Src: c.src, Progress: progress})
}

// vmBuildResult is vm build's --json output (docs/schema/vm-build.json).
type vmBuildResult struct {
	Manifest *assets.Manifest `json:"manifest"`
	Initrd   string           `json:"initrd"`
	Dir      string           `json:"dir"`
}

func runVMBuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("vm build", stderr,
		"usage: cmcsync vm build [--variant arm|x86] [--cache DIR] [--src DIR] [--refresh] [--json]",
		"\nFetches the Debian kernel, device tree, MTD modules and busybox (cached), cross-compiles",
		"cmcsync and builds the initramfs the vm scenarios boot.\n")
	var c vmCommon
	c.add(fs)
	jsonOut := fs.Bool("json", false, "print the manifest of what was used as JSON")
	if done, err := parseFlags(fs, args); done {
		return err
	}
	img, err := c.build(ctx, stderr)
	if err != nil {
		return err
	}
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(vmBuildResult{img.Manifest, img.Initrd, img.Manifest.Dir})
	}
	m := img.Manifest
	fmt.Fprintf(stdout, "variant %s, kernel %s\n", m.Variant, m.KernelRelease)
	for _, p := range m.Packages {
		fmt.Fprintf(stdout, "  %s:%s %s\n", p.Name, p.Arch, p.Version)
	}
	fmt.Fprintf(stdout, "kernel  %s\n", m.Path(m.Kernel))
	if m.DTB != "" {
		fmt.Fprintf(stdout, "dtb     %s\n", m.Path(m.DTB))
	}
	fmt.Fprintf(stdout, "initrd  %s\n", img.Initrd)
	return nil
}

func runVMScenario(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		args = append([]string{"NAME"}, args...) // the flags of every scenario (cmcsync help vm scenario)
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return usageError("vm scenario: name a scenario first (one of %s)", strings.Join(scenario.Names(), ", "))
	}
	name := args[0]
	fs := newFlagSet("vm scenario "+name, stderr,
		"usage: cmcsync vm scenario NAME [flags]",
		"\nBoots the emulated CMC in QEMU, runs scenario NAME and checks the flash",
		"images from the host. NAME is one of: "+strings.Join(scenario.Names(), ", ")+".")
	var c vmCommon
	c.add(fs)
	jsonOut := fs.Bool("json", false, "print the report as JSON")
	cycles := fs.Int("cycles", 5, "powercut: number of power cuts")
	seed := fs.Uint64("seed", 1, "seed for every random choice (kill moments, CMC activity)")
	mutant := fs.String("mutant", "", "run a deliberately broken engine variant (the scenario must then fail)")
	kvm := fs.Bool("kvm", false, "use KVM (x86 variant only; default TCG)")
	factoryBad := fs.Bool("factory-bad", false, "nand: bad blocks from the start (nandsim badblocks=) instead of marked bad after the format")
	schedule := fs.String("schedule", "", "powercut, nand-diff: a replay `LINE` exactly as cmcsync campaign prints it: run that round in the guest and cut the power (SIGKILL) at the operation it names")
	points := fs.Int("points", 30, "diff, nand-diff: cut points of the exhaustive standard (nand) campaign to run in QEMU and the simulator (0: all)")
	var extra []string
	fs.Func("extra", "diff, nand-diff: a replay line to run after the points (repeatable; a shipped mutant's, for instance)", func(s string) error { extra = append(extra, s); return nil })
	work := fs.String("work", "", "folder for the flash images and console logs, the guest's output only: QEMU's own standard error goes to this command's (default: a temporary folder, kept on failure)")
	if done, err := parseFlags(fs, args[1:]); done {
		return err
	}
	if !scenario.Known(name) {
		return usageError("vm scenario: unknown scenario %q (want one of %s)", name, strings.Join(scenario.Names(), ", "))
	}
	if *cycles < 1 {
		return usageError("vm scenario: --cycles must be at least 1")
	}
	m, err := engine.ParseMutant(*mutant)
	if err != nil {
		return usageError("vm scenario: --mutant: %v", err)
	}
	if *schedule != "" && ((name != "powercut" && name != "nand-diff") || *mutant != "") {
		return usageError("vm scenario: --schedule is for powercut and nand-diff, and the replay line names the engine variant (drop --mutant)")
	}
	if *schedule != "" && len(extra) > 0 {
		return usageError("vm scenario: --extra goes with --points, not --schedule (give each replay line as an --extra)")
	}
	if *points < 0 {
		return usageError("vm scenario: --points must be 0 (all) or more")
	}
	// Replay lines are checked before any asset is fetched or built: a
	// typo is a bad command line (exit 2), not a failed scenario.
	lines := map[string][]string{"--schedule": {*schedule}, "--extra": extra}
	for _, f := range []string{"--schedule", "--extra"} {
		for _, l := range lines[f] {
			if l == "" {
				continue
			}
			if _, err := campaign.ParseCase(l); err != nil {
				return usageError("vm scenario: %s: %v", f, err)
			}
		}
	}
	o := scenario.Options{Schedule: *schedule, Points: *points, Extra: extra,
		CacheDir: c.cache, Src: c.src, Refresh: c.refresh, WorkDir: *work,
		KVM: *kvm, Cycles: *cycles, Seed: *seed, Mutant: m, Progress: stderr, FactoryBad: *factoryBad,
	}
	if name != "nand" && name != "nand-diff" && c.variant != "arm" {
		return usageError("vm scenario %s runs on the arm variant only", name)
	}
	rep, err := scenario.Run(ctx, name, o)
	if err != nil {
		return err
	}
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		rep.WriteText(stdout)
	}
	if !rep.Pass {
		return &exitError{code: 1, msg: fmt.Sprintf("vm scenario %s failed: %s", name, rep.Summary())}
	}
	return nil
}
