package scenario

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/qemu/assets"
	"github.com/cmcsync/cmcsync/qemu/vm"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// testLog sends progress lines to the test log.
type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// noPurgeExactCut cuts the standard round at its commit record's
// program (format version 5: operation 439), which leaves the round's
// intent for the recovery to purge; it is also a line of make vm-diff.
const noPurgeExactCut = "standard seed=1 mutant=no-purge | (on (at 439) cut) | none"

// TestScenariosInQEMU boots the CMC image and runs every scenario, then a
// mutant engine that must be caught. It needs qemu-system-arm,
// qemu-system-x86_64, apt (with the armhf architecture added) and the
// network or a warm asset cache; it fails, naming what to install, when
// they are missing. `go test -short` skips it (make vm-test runs it).
func TestScenariosInQEMU(t *testing.T) {
	if testing.Short() {
		t.Skip("boots QEMU for minutes; run without -short (make vm-test)")
	}
	for prog, pkg := range map[string]string{"qemu-system-arm": "qemu-system-arm", "qemu-system-x86_64": "qemu-system-x86", "apt-get": "apt", "dpkg-deb": "dpkg"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Fatalf("%s is not installed; the QEMU scenarios need it (apt-get install -y %s)", prog, pkg)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 55*time.Minute)
	defer cancel()
	log := testLog{t}
	images := map[string]*vm.Image{}
	for _, v := range assets.Variants() {
		img, err := vm.Build(ctx, vm.BuildOptions{Variant: v, Progress: log})
		require.NoError(t, err)
		images[v.Name] = img
	}
	tests := []struct {
		name     string
		scenario string
		opts     Options
		pass     bool
		violates string // for failing runs: a check that must be among the violations
	}{
		{"selftest", "selftest", Options{Seed: 1}, true, ""},
		{"sync", "sync", Options{Seed: 1}, true, ""},
		{"powercut", "powercut", Options{Seed: 1, Cycles: 3}, true, ""},
		{"nand", "nand", Options{Seed: 1}, true, ""},
		{"daemon-powercut", "daemon-powercut", Options{Seed: 1, Cycles: 3}, true, ""},
		{"sync with the primary-written mutant", "sync", Options{Seed: 1, Mutant: engine.PrimaryWritten}, false, "primary-untouched"},
		// Seed 1 cuts cycles 2 and 3 early in the round's write phase,
		// leaving interrupted rounds whose blocks a purge must erase.
		{"powercut with the no-purge mutant", "powercut", Options{Seed: 1, Cycles: 3, Mutant: engine.NoPurge}, false, "purged-blocks-erased"},
		// The differential's sample: three cut points of the exhaustive
		// standard campaign (the commit, an erase, a chunk's first
		// program), each killed in QEMU at the exact operation and judged
		// in both worlds (make vm-diff runs them all).
		{"diff on 3 campaign points", "diff", Options{Seed: 1, Points: diffSample}, true, ""},
		// The same on NAND: two cut points of the nand campaign (a
		// factory bad block on the backup) on the x86 guest's nandsim,
		// with a bit flip the kernel's ECC corrects and counts.
		{"nand-diff on 2 campaign points", "nand-diff", Options{Seed: 1, Points: nandDiffSample}, true, ""},
		// A cut at the commit leaves the round's intent to purge: the
		// no-purge mutant fails in QEMU as in the simulator
		// (TestVMDiffExtraLinesPlan checks the line still shows it).
		{"exact cut with the no-purge mutant", "powercut", Options{Seed: 1, Schedule: noPurgeExactCut}, false, "purged op 439"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			o.Images, o.Progress = images, testLog{t}
			if tt.scenario == "daemon-powercut" {
				// The browser test against the guest's daemon, on the
				// scenario's last boot.
				o.OnDaemon = func(ctx context.Context, d DaemonAPI) error {
					if !t.Run("browser", func(t *testing.T) { testGuestPage(t, d) }) {
						return errors.New("the browser test against the guest's daemon failed (see its log above)")
					}
					return nil
				}
			}
			rep, err := Run(ctx, tt.scenario, o)
			require.NoError(t, err)
			var text strings.Builder
			rep.WriteText(&text)
			t.Log(text.String())
			require.Equal(t, tt.pass, rep.Pass, rep.Summary())
			for _, x := range rep.ExactCuts {
				require.Empty(t, x.Differences, "QEMU and the simulator differ: %s", x.Line())
				require.Equal(t, x.SimFailed(), x.Failed(), x.Line())
			}
			if !tt.pass {
				require.Contains(t, strings.Join(rep.Violations, "\n"), tt.violates)
				require.Contains(t, rep.Summary(), "replay: cmcsync vm scenario "+tt.scenario)
				os.RemoveAll(rep.WorkDir)
			}
		})
	}
}
