package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/qemu/assets"
	"github.com/cmcsync/cmcsync/qemu/guest"
	"github.com/cmcsync/cmcsync/qemu/vm"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/info"
)

// chipPart is the part QEMU emulates on fuji-bmc (and sim models).
const chipPart = "mx66l1g45g"

// chipSpec says how the host opens a chip image: the sim part that matches
// the guest's chip, the size (0: the part's), and bad blocks to mark (by
// chip offset) because the image file cannot carry them.
type chipSpec struct {
	part string
	size int64
	bad  []int64
}

// norChip is a fuji-bmc SPI NOR chip.
var norChip = chipSpec{part: chipPart}

// open opens a chip image file as a simulated flash (raw contents, exactly
// the chip size; sim keeps wear and bad-block marks in a PATH.wear sidecar).
func (c chipSpec) open(path, name string) (*sim.Flash, error) {
	p, err := sim.LookupPart(c.part)
	if err != nil {
		return nil, err
	}
	f, err := sim.OpenFile(path, sim.Options{Part: p, Size: c.size, Name: name})
	if err != nil {
		return nil, fmt.Errorf("open image %s: %w", path, err)
	}
	for _, off := range c.bad {
		if err := f.MarkBad(off); err != nil {
			f.Close()
			return nil, fmt.Errorf("image %s: mark block at %#x bad: %w", path, off, err)
		}
	}
	return f, nil
}

// openImage opens a fuji-bmc chip image.
func openImage(path, name string) (*sim.Flash, error) { return norChip.open(path, name) }

// createGuardedImages creates both chip images, erased, and writes a
// firmware image labelled version on flash0: the guard a destructive
// scenario on flash1 must leave unchanged.
func createGuardedImages(e *env, version string) error {
	for _, path := range []string{e.primary, e.backup} {
		if err := vm.CreateFlashImage(path); err != nil {
			return err
		}
	}
	pf, err := openImage(e.primary, "flash0")
	if err != nil {
		return err
	}
	err = info.WriteImage(pf, info.ImageHeader{Version: version, Size: 1 << 20}, e.o.Seed)
	if cerr := pf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write guard image on flash0: %w", err)
	}
	return nil
}

var reChecks = regexp.MustCompile(`(\d+) checks? passed`)

// runSelftest runs the hal/haltest suite on flash1 in the guest. The host
// writes a firmware image on flash0 first and checks afterwards that the
// suite (destructive on flash1) left flash0 bit-for-bit unchanged, and that
// the guest's report names a positive number of passed checks.
func runSelftest(ctx context.Context, e *env) error {
	if err := createGuardedImages(e, "selftest-guard"); err != nil {
		return err
	}
	before, err := assets.FileSHA256(e.primary)
	if err != nil {
		return err
	}
	m, err := e.boot(ctx)
	if err != nil {
		return err
	}
	defer m.Kill()
	out, runErr := e.run(ctx, m, "cmcsync selftest --flash "+guest.DefaultBackup)
	if err := m.Reboot(rebootTimeout); err != nil {
		return err
	}
	e.rep.Guest, _ = json.Marshal(map[string]string{"selftest_output": strings.TrimSpace(tail(out, 4000))})
	if runErr != nil {
		return violationf("selftest in the guest failed: %v", runErr)
	}
	n := reChecks.FindStringSubmatch(out)
	e.rep.check("guest-selftest", n != nil && n[1] != "0", "guest reported %q", firstLine(n))
	after, err := assets.FileSHA256(e.primary)
	if err != nil {
		return err
	}
	e.rep.check("flash0-untouched", before == after, "sha256 of primary.img before %s…, after %s…", before[:12], after[:12])
	pf, err := openImage(e.primary, "flash0")
	if err != nil {
		return err
	}
	defer pf.Close()
	verr := info.VerifyImage(pf)
	e.rep.check("flash0-image-crc", verr == nil, "%v", errString(verr, "guard image verifies"))
	return nil
}

func firstLine(m []string) string {
	if len(m) == 0 {
		return "no \"N checks passed\" line"
	}
	return m[0]
}

func errString(err error, ok string) string {
	if err == nil {
		return ok
	}
	return err.Error()
}

var _ hal.Flash = (*sim.Flash)(nil)
