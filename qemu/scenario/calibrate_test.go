package scenario

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/qemu/assets"
	"github.com/cmcsync/cmcsync/qemu/vm"
	"github.com/cmcsync/cmcsync/sim"
)

// TestCalibrateInQEMU boots the ARM CMC, calibrates a scratch range of
// flash1 in the guest and benchmarks the profile on the host. It needs
// what TestScenariosInQEMU needs; `go test -short` skips it.
func TestCalibrateInQEMU(t *testing.T) {
	if testing.Short() {
		t.Skip("boots QEMU for minutes; run without -short (make vm-test)")
	}
	for prog, pkg := range map[string]string{"qemu-system-arm": "qemu-system-arm", "apt-get": "apt", "dpkg-deb": "dpkg"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Fatalf("%s is not installed; the QEMU scenarios need it (apt-get install -y %s)", prog, pkg)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	img, err := vm.Build(ctx, vm.BuildOptions{Variant: assets.ARM, Progress: testLog{t}})
	require.NoError(t, err)
	rep, err := Run(ctx, "calibrate", Options{Seed: 1, Images: map[string]*vm.Image{"arm": img}, Progress: testLog{t}})
	require.NoError(t, err)
	var text strings.Builder
	rep.WriteText(&text)
	t.Log(text.String())
	require.True(t, rep.Pass, rep.Summary())

	var fig struct {
		Profile       json.RawMessage `json:"profile"`
		Plausibility  string          `json:"plausibility"`
		BenchWarnings []string        `json:"bench_warnings"`
		BenchRows     []benchLine     `json:"bench_rows"`
	}
	require.NoError(t, json.Unmarshal(rep.Guest, &fig))
	pr, err := sim.DecodeProfile(strings.NewReader(string(fig.Profile)))
	require.NoError(t, err)
	require.True(t, pr.Emulated)
	require.Equal(t, "qemu-flash1", pr.Name)
	require.NotEmpty(t, fig.BenchRows)
	if fig.Plausibility != "plausible" {
		require.Contains(t, fig.Plausibility, "physically implausible for NOR flash")
		require.NotEmpty(t, fig.BenchWarnings, "an implausible profile runs with a warning")
	}
}

func TestBetween(t *testing.T) {
	text, ok := between("noise\r\n"+profileBegin+"\r\n{\"a\": 1}\r\n"+profileEnd+"\r\n", profileBegin, profileEnd)
	require.True(t, ok)
	require.Equal(t, "{\"a\": 1}\n", text)
	_, ok = between("no markers", profileBegin, profileEnd)
	require.False(t, ok)
	_, ok = between(profileBegin+"\n{", profileBegin, profileEnd)
	require.False(t, ok)
	require.Contains(t, calibrateCommand(), "cmcsync calibrate --flash mtd:/dev/mtd6 --scratch 0x7e00000+1MiB --name qemu-flash1 --emulated")
	require.True(t, Known("calibrate"))
}
