package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/qemu/assets"
	"github.com/cmcsync/cmcsync/qemu/vm"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// Options configure a scenario run.
type Options struct {
	// CacheDir is the asset cache root ("" = assets.DefaultCacheDir()).
	CacheDir string
	// Src is the cmcsync checkout to cross-compile ("" = found from the
	// working directory).
	Src string
	// Refresh re-resolves the Debian packages.
	Refresh bool
	// WorkDir holds the flash images and console logs. "" = a new
	// temporary folder, removed after a passing run and kept after a
	// failing one.
	WorkDir string
	// KVM asks for KVM (x86 only).
	KVM bool
	// Cycles is the number of power cuts (powercut).
	Cycles int
	// Seed drives every random choice.
	Seed uint64
	// FactoryBad (nand) makes nandsim create the bad blocks from the
	// start, so the engine must format around them, instead of marking
	// them bad after the format.
	FactoryBad bool
	// Mutant is a deliberately broken engine variant for the guest to run
	// (engine.None: the real engine).
	Mutant engine.Mutant
	// Schedule (powercut) is a campaign replay line to run with a power
	// cut at the exact operation it names, instead of seeded delays.
	Schedule string
	// Points (diff, nand-diff) is how many cut points of the exhaustive
	// standard (nand) campaign the differential runs (0: all); Extra are
	// replay lines it runs after them (a shipped mutant's, for instance).
	Points int
	Extra  []string
	// OnDaemon (daemon-powercut) runs on the host against the guest's
	// daemon on the last boot, after its recovery is checked and before
	// the final sync: the browser test, for one. An error is a violation.
	OnDaemon func(ctx context.Context, d DaemonAPI) error
	// Progress receives one line per step (nil: discarded).
	Progress io.Writer
	// Images are prebuilt images (from vm.Build) by variant name ("arm",
	// "x86"); a scenario whose variant has none builds it.
	Images map[string]*vm.Image
}

// Boot records one boot of the guest.
type Boot struct {
	// ToShell is the wall time from starting QEMU to the shell prompt.
	ToShell Seconds `json:"to_shell_seconds"`
	// GuestUptime is the guest kernel's uptime at the shell prompt.
	GuestUptime Seconds `json:"guest_uptime_seconds"`
}

// Check is one host-side check of the flash images.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// Seconds is a duration that prints as seconds in JSON.
type Seconds time.Duration

// MarshalJSON writes the duration as a number of seconds (ms precision).
func (s Seconds) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf("%.3f", time.Duration(s).Seconds())), nil
}

// String formats like time.Duration, rounded to milliseconds.
func (s Seconds) String() string { return time.Duration(s).Round(time.Millisecond).String() }

// Report is the outcome of a scenario.
type Report struct {
	Scenario string `json:"scenario"`
	Variant  string `json:"variant"`
	Kernel   string `json:"kernel"`
	Pass     bool   `json:"pass"`
	Seed     uint64 `json:"seed"`
	// Mutant names the engine variant the guest ran ("" for the real
	// engine).
	Mutant string `json:"mutant,omitempty"`
	// Boots lists every boot of the guest.
	Boots []Boot `json:"boots"`
	// Guest is what cmcsync reported inside the guest (the engine's own
	// figures: bytes, erases, programs, wall time in the guest).
	Guest json.RawMessage `json:"guest,omitempty"`
	// Checks are the host-side checks of the flash images.
	Checks []Check `json:"checks"`
	// Cycles are the power cuts (powercut only).
	Cycles []Cycle `json:"cycles,omitempty"`
	// ExactCuts are the replayed campaign cases (powercut --schedule,
	// diff).
	ExactCuts []ExactCut `json:"exact_cuts,omitempty"`
	// Violations lists every failed check or broken invariant.
	Violations []string `json:"violations,omitempty"`
	// Replay is the command line that reruns this scenario.
	Replay string `json:"replay"`
	// WorkDir holds the images and console logs (kept when failing).
	WorkDir string  `json:"work_dir,omitempty"`
	Elapsed Seconds `json:"elapsed_seconds"`
}

func (r *Report) check(name string, ok bool, format string, a ...any) bool {
	c := Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, a...)}
	r.Checks = append(r.Checks, c)
	if !ok {
		r.Violations = append(r.Violations, name+": "+c.Detail)
	}
	return ok
}

// Summary is a one-line account of the result.
func (r *Report) Summary() string {
	if r.Pass {
		return fmt.Sprintf("%s passed: %d checks", r.Scenario, len(r.Checks))
	}
	v := "no violation recorded"
	if len(r.Violations) > 0 {
		v = r.Violations[0]
		if len(r.Violations) > 1 {
			v += fmt.Sprintf(" (and %d more)", len(r.Violations)-1)
		}
	}
	return fmt.Sprintf("%s FAILED: %s; replay: %s", r.Scenario, v, r.Replay)
}

// WriteText prints the report for humans.
func (r *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "scenario %s on %s (kernel %s), seed %d", r.Scenario, r.Variant, r.Kernel, r.Seed)
	if r.Mutant != "" {
		fmt.Fprintf(w, ", mutant %s", r.Mutant)
	}
	fmt.Fprintln(w)
	for i, b := range r.Boots {
		fmt.Fprintf(w, "boot %d: shell after %v (guest uptime %v)\n", i+1, b.ToShell, b.GuestUptime)
	}
	if len(r.Guest) > 0 {
		fmt.Fprintf(w, "guest: %s\n", r.Guest)
	}
	for _, c := range r.Cycles {
		fmt.Fprintf(w, "%s\n", c.Line())
	}
	for _, x := range r.ExactCuts {
		fmt.Fprintf(w, "%s\n", x.Line())
	}
	for _, c := range r.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "%s %s: %s\n", mark, c.Name, c.Detail)
	}
	fmt.Fprintf(w, "%s (in %v)\n", r.Summary(), r.Elapsed)
	if !r.Pass && r.WorkDir != "" {
		fmt.Fprintf(w, "images and console logs kept in %s\n", r.WorkDir)
	}
}

type runner func(ctx context.Context, e *env) error

var scenarios = map[string]struct {
	variant assets.Variant
	run     runner
	about   string
}{
	"selftest":        {assets.ARM, runSelftest, "hal/haltest conformance suite on /dev/mtd6 (flash1) in the guest"},
	"sync":            {assets.ARM, runSync, "one engine round from flash0 to flash1 through hal/mtd; host compares digests"},
	"powercut":        {assets.ARM, runPowercut, "SIGKILL QEMU at seeded moments during rounds, or stop and kill it at the exact operation of a campaign replay line (--schedule); reboot; host checks the invariants"},
	"nand":            {assets.X86, runNAND, "x86 guest: the engine on nandsim NAND with bad blocks and bit flips"},
	"daemon-powercut": {assets.ARM, runDaemonPowercut, "cmcsync serve in the guest on a CMC flash layout (TLS, token, forwarded port); SIGKILL QEMU at seeded moments during API syncs; the host checks recovery and the stores with the reference decoder"},
	"diff":            {assets.ARM, runDiff, "cut points of the exhaustive campaign, each in QEMU (stopped and SIGKILLed at the exact operation) and in the simulator: same operations, chips, backup and verdicts"},
	"nand-diff":       {assets.X86, runNANDDiff, "x86 guest on nandsim: cut points of the exhaustive nand campaign (factory bad blocks, one the round steps over; a bit flip the kernel's ECC corrects and counts), each stopped at the exact operation, the chips saved and QEMU killed, and run in the simulator: same operations, chips, backup and verdicts"},
	"calibrate":       {assets.ARM, runCalibrate, "cmcsync calibrate on a scratch range of /dev/mtd6 (flash1); the host benchmarks the (emulated) profile"},
}

// Names returns the scenario names, sorted.
func Names() []string {
	var n []string
	for k := range scenarios {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Known reports whether name is a scenario.
func Known(name string) bool { _, ok := scenarios[name]; return ok }

// About returns a one-line description of a scenario.
func About(name string) string { return scenarios[name].about }

// env is one scenario run's state.
type env struct {
	o               Options
	img             *vm.Image
	dir             string
	rep             *Report
	boots           int
	logf            func(format string, a ...any)
	primary, backup string
}

// Run builds (or reuses) the image for the scenario's variant and runs the
// scenario. A scenario whose checks fail returns a Report with Pass false
// and the violations; an error means the scenario could not run at all
// (missing QEMU, a guest that does not boot, ...).
func Run(ctx context.Context, name string, o Options) (*Report, error) {
	s, ok := scenarios[name]
	if !ok {
		return nil, fmt.Errorf("unknown scenario %q (want one of %s)", name, strings.Join(Names(), ", "))
	}
	start := time.Now()
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	logf := func(format string, a ...any) { fmt.Fprintf(progress, name+": "+format+"\n", a...) }
	img := o.Images[s.variant.Name]
	if img == nil {
		var err error
		img, err = vm.Build(ctx, vm.BuildOptions{Variant: s.variant, CacheDir: o.CacheDir, Refresh: o.Refresh, Src: o.Src, Progress: progress})
		if err != nil {
			return nil, err
		}
	}
	var err error
	dir := o.WorkDir
	temp := dir == ""
	if temp {
		if dir, err = os.MkdirTemp("", "cmcsync-vm-"+name+"-"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	rep := &Report{Scenario: name, Variant: s.variant.Name, Kernel: img.Manifest.KernelRelease, Seed: o.Seed, WorkDir: dir,
		Boots: []Boot{}, Checks: []Check{}} // [] in JSON, not null, when it ends before a boot
	if o.Mutant != engine.None {
		rep.Mutant = o.Mutant.String()
	}
	rep.Replay = replayLine(name, o)
	e := &env{o: o, img: img, dir: dir, rep: rep, logf: logf,
		primary: filepath.Join(dir, "primary.img"), backup: filepath.Join(dir, "backup.img")}
	err = s.run(ctx, e)
	rep.Elapsed = Seconds(time.Since(start))
	if err != nil {
		var v *violation
		if !errors.As(err, &v) {
			return nil, fmt.Errorf("scenario %s: %w (images and console logs in %s)", name, err, dir)
		}
		rep.Violations = append(rep.Violations, v.msg)
	}
	rep.Pass = len(rep.Violations) == 0
	if rep.Pass && temp {
		os.RemoveAll(dir)
		rep.WorkDir = ""
	}
	return rep, nil
}

// violation is a scenario failure that is a finding (not an inability to
// run): it ends the scenario with a failing report.
type violation struct{ msg string }

func (v *violation) Error() string { return v.msg }

func violationf(format string, a ...any) error { return &violation{fmt.Sprintf(format, a...)} }

func replayLine(name string, o Options) string {
	s := "cmcsync vm scenario " + name
	if name == "powercut" && o.Schedule != "" {
		return s + " --schedule " + guestQuote(o.Schedule)
	}
	if name == "powercut" || name == "daemon-powercut" {
		s += fmt.Sprintf(" --cycles %d", o.Cycles)
	}
	if name == "nand-diff" && o.Schedule != "" {
		return s + " --schedule " + guestQuote(o.Schedule)
	}
	if name == "diff" || name == "nand-diff" {
		s += fmt.Sprintf(" --points %d", o.Points)
		for _, l := range o.Extra {
			s += " --extra " + guestQuote(l)
		}
	}
	s += fmt.Sprintf(" --seed %d", o.Seed)
	if name == "nand" && o.FactoryBad {
		s += " --factory-bad"
	}
	if o.Mutant != engine.None {
		s += " --mutant " + o.Mutant.String()
	}
	return s
}

// Timeouts for the guest. TCG on a busy 2-core host is slow: generous.
const (
	bootTimeout    = 240 * time.Second
	commandTimeout = 300 * time.Second
	rebootTimeout  = 60 * time.Second
)

// boot starts the guest on the scenario's images and waits for the shell.
func (e *env) boot(ctx context.Context) (*vm.Machine, error) { return e.bootWith(ctx, nil) }

// bootWith is boot with a hook that adjusts the QEMU configuration.
func (e *env) bootWith(ctx context.Context, adjust func(*vm.Config)) (*vm.Machine, error) {
	e.boots++
	logPath := filepath.Join(e.dir, fmt.Sprintf("console-%02d.log", e.boots))
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cfg := vm.Config{Manifest: e.img.Manifest, Initrd: e.img.Initrd, KVM: e.o.KVM, Log: log,
		QMP: filepath.Join(e.dir, fmt.Sprintf("qmp-%02d.sock", e.boots))}
	if e.img.Manifest.Variant == "arm" {
		cfg.Flash = []string{e.primary, e.backup}
	}
	if adjust != nil {
		adjust(&cfg)
	}
	m, err := vm.Start(ctx, cfg)
	if err != nil {
		log.Close()
		return nil, err
	}
	go func() { <-m.Done(); log.Close() }()
	up, err := m.WaitReady(ctx, bootTimeout)
	if err != nil {
		m.Kill()
		return nil, fmt.Errorf("%w (console log %s)", err, logPath)
	}
	b := Boot{ToShell: Seconds(time.Since(m.Started)), GuestUptime: Seconds(up)}
	e.rep.Boots = append(e.rep.Boots, b)
	e.logf("boot %d: shell after %v (guest uptime %v)", e.boots, b.ToShell, b.GuestUptime)
	return m, nil
}

// run runs a command in the guest and fails unless it exits 0.
func (e *env) run(ctx context.Context, m *vm.Machine, cmd string) (string, error) {
	e.logf("guest$ %s", cmd)
	r, err := m.Run(ctx, cmd, commandTimeout)
	if err != nil {
		return r.Output, err
	}
	if r.Status != 0 {
		return r.Output, fmt.Errorf("guest command %q exited %d:\n%s", cmd, r.Status, tail(r.Output, 3000))
	}
	return r.Output, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
