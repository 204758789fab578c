package scenario

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/bench"
	"github.com/cmcsync/cmcsync/calibrate"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/qemu/assets"
	"github.com/cmcsync/cmcsync/qemu/guest"
	"github.com/cmcsync/cmcsync/sim"
)

// calibrateScratch is the range of flash1 the calibrate scenario lets the
// guest erase: 1 MiB below the chip's last MiB, so that guard data lies on
// both sides of it. Nothing else uses flash1 in this scenario.
var calibrateScratch = calibrate.Range{Off: 0x7e00000, Size: 1 << 20}

// calibrateGuard is the guard data written around the scratch (1 MiB on
// each side).
const calibrateGuard = 1 << 20

// Markers around the profile the guest prints.
const (
	profileBegin = "@@PROFILE-BEGIN@@"
	profileEnd   = "@@PROFILE-END@@"
)

// calibrateFigures is what the calibrate scenario reports from the guest
// and the host's bench.
type calibrateFigures struct {
	// Note says what the figures are.
	Note string `json:"note"`
	// Profile is the profile the guest wrote, as it printed it.
	Profile json.RawMessage `json:"profile"`
	// Plausibility is the verdict of sim.Part.CheckPlausible: "plausible"
	// or the refusal.
	Plausibility string `json:"plausibility"`
	// GuestWall is the wall time of the guest's calibrate command.
	GuestWall Seconds `json:"guest_calibrate_wall_seconds"`
	// Bench is the host's bench on the profile (--allow-implausible):
	// its warnings and engine rows.
	BenchWarnings []string    `json:"bench_warnings,omitempty"`
	BenchRows     []benchLine `json:"bench_rows"`
}

// benchLine is one bench row, briefly.
type benchLine struct {
	Workload      string  `json:"workload"`
	Strategy      string  `json:"strategy"`
	DeviceSeconds float64 `json:"device_seconds"`
	VsPhysical    float64 `json:"vs_physical_floor"`
}

// runCalibrate writes a guard firmware image on flash0 and seeded guard
// data on flash1 around the scratch range, boots the guest and runs
// cmcsync calibrate on /dev/mtd6 with that scratch range, labelled
// emulated; the guest prints the profile between markers. The host
// checks that the profile decodes and is labelled emulated, that flash1
// changed nowhere outside the scratch (which is left erased) and flash0
// not at all, judges the profile's plausibility (QEMU's erase is a file
// write: expected to be refused, which is reported, not a failure) and
// runs a small bench matrix on it with implausible profiles allowed.
func runCalibrate(ctx context.Context, e *env) error {
	if err := prepareCalibrateImages(e); err != nil {
		return err
	}
	flash0, err := assets.FileSHA256(e.primary)
	if err != nil {
		return err
	}
	outside, err := hashOutside(e.backup, calibrateScratch)
	if err != nil {
		return err
	}
	m, err := e.boot(ctx)
	if err != nil {
		return err
	}
	defer m.Kill()
	start := time.Now()
	out, runErr := e.run(ctx, m, calibrateCommand())
	wall := time.Since(start)
	if err := m.Reboot(rebootTimeout); err != nil {
		return err
	}
	if runErr != nil {
		return violationf("calibrate in the guest failed: %v", runErr)
	}
	fig := calibrateFigures{GuestWall: Seconds(wall),
		Note: "figures of QEMU's emulated MX66L1G45G under TCG: program and erase are writes to the image file plus emulation overhead, not a chip's times"}
	text, found := between(out, profileBegin, profileEnd)
	e.rep.check("profile-printed", found, "the guest printed the profile between %s and %s", profileBegin, profileEnd)
	pr, derr := sim.DecodeProfile(strings.NewReader(text))
	e.rep.check("profile-decodes", derr == nil, "%s", errString(derr, "sim.DecodeProfile accepts it"))
	if derr == nil {
		fig.Profile = json.RawMessage(compactJSON(text))
		e.rep.check("profile-labelled-emulated", pr.Emulated && strings.Contains(pr.Source, "emulated"), "source %q", pr.Source)
		if err := os.WriteFile(filepath.Join(e.dir, pr.Name+".json"), []byte(text), 0o644); err != nil {
			return err
		}
		if err := benchProfile(ctx, e, pr, &fig); err != nil {
			return err
		}
	}
	after, err := hashOutside(e.backup, calibrateScratch)
	if err != nil {
		return err
	}
	e.rep.check("flash1-outside-scratch-untouched", after == outside, "sha256 of flash1 outside %v before %s…, after %s…", calibrateScratch, outside[:12], after[:12])
	erased, err := rangeErased(e.backup, calibrateScratch)
	if err != nil {
		return err
	}
	e.rep.check("flash1-scratch-left-erased", erased, "scratch %v reads all 0xFF: %v", calibrateScratch, erased)
	flash0After, err := assets.FileSHA256(e.primary)
	if err != nil {
		return err
	}
	e.rep.check("flash0-untouched", flash0 == flash0After, "sha256 of primary.img before %s…, after %s…", flash0[:12], flash0After[:12])
	e.rep.Guest, err = json.Marshal(fig)
	return err
}

// calibrateCommand is the guest's command line: calibrate flash1's scratch
// range, labelled emulated, then print the profile between markers.
func calibrateCommand() string {
	const path = "/tmp/qemu-flash1.json"
	return fmt.Sprintf("cmcsync calibrate --flash %s --scratch %v --name qemu-flash1 --emulated --out %s && echo %s && cat %s && echo %s",
		guest.DefaultBackup, calibrateScratch, path, profileBegin, path, profileEnd)
}

// prepareCalibrateImages makes both images: a guard firmware image on
// flash0, seeded data on flash1 around the scratch range.
func prepareCalibrateImages(e *env) error {
	if err := createGuardedImages(e, "calibrate-guard"); err != nil {
		return err
	}
	bf, err := openImage(e.backup, "flash1")
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(e.o.Seed, 0xca1b))
	guard := make([]byte, calibrateGuard)
	for _, off := range []int64{calibrateScratch.Off - calibrateGuard, calibrateScratch.End()} {
		for i := range guard {
			guard[i] = byte(rng.Uint32())
		}
		bf.Poke(off, guard)
	}
	return bf.Close()
}

// benchProfile judges the profile's plausibility and runs a small bench
// matrix on it, allowing an implausible profile.
func benchProfile(ctx context.Context, e *env, pr sim.Profile, fig *calibrateFigures) error {
	part, err := pr.Part()
	if err != nil {
		return err
	}
	fig.Plausibility = "plausible"
	if perr := part.CheckPlausible(); perr != nil {
		fig.Plausibility = perr.Error()
	}
	e.logf("plausibility: %s", fig.Plausibility)
	workloads, err := bench.LookupWorkloads([]string{"cmc-10m", "clustered-1pct"})
	if err != nil {
		return err
	}
	cfg := bench.Config{Profiles: []sim.Part{part}, AllowImplausible: true, Timings: []string{"typical"}, EraseModels: []string{sim.Erase4K.String()},
		Sizes: []int64{1 << 20}, Workloads: workloads, Seed: e.o.Seed}
	e.logf("bench on the profile: %s, %d workloads, 1 MiB region", part.Name, len(cfg.Workloads))
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		return violationf("bench --part-file on the guest's profile failed: %v", err)
	}
	fig.BenchWarnings = rep.Warnings
	for _, r := range rep.Rows {
		fig.BenchRows = append(fig.BenchRows, benchLine{Workload: r.Workload, Strategy: r.Strategy, DeviceSeconds: r.DeviceSeconds, VsPhysical: r.VsPhysicalFloor})
	}
	e.rep.check("bench-ran-on-profile", len(rep.Rows) > 0, "%d rows, %d warnings", len(rep.Rows), len(rep.Warnings))
	return nil
}

// between returns the text between the lines begin and end of out
// (carriage returns removed).
func between(out, begin, end string) (string, bool) {
	out = strings.ReplaceAll(out, "\r", "")
	_, rest, ok := strings.Cut(out, begin+"\n")
	if !ok {
		return "", false
	}
	text, _, ok := strings.Cut(rest, end)
	return text, ok
}

// compactJSON compacts valid JSON text.
func compactJSON(text string) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(text)); err != nil {
		return []byte(`null`)
	}
	return b.Bytes()
}

// hashOutside returns the SHA-256 of the file at path without the bytes
// of r.
func hashOutside(path string, r calibrate.Range) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, r.Off)); err != nil {
		return "", err
	}
	if _, err := f.Seek(r.End(), io.SeekStart); err != nil {
		return "", err
	}
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// rangeErased reports whether r of the file at path is all 0xFF.
func rangeErased(path string, r calibrate.Range) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	buf := make([]byte, r.Size)
	if _, err := f.ReadAt(buf, r.Off); err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	return hal.IsErased(buf), nil
}
