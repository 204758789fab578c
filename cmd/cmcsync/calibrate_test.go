package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/bench"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/sim"
)

// TestCalibrateThenBench: calibrate a simulated chip with the spread on,
// load the profile with sim:profile= and run bench --part-file on it.
func TestCalibrateThenBench(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "chip.json")
	out, errOut, err := runCmd("calibrate", "--flash", "sim:part=w25q256jv,size=4M,timing=spread", "--scratch", "3M+1M", "--out", path, "--name", "my-w25q")
	require.NoError(t, err, errOut)
	require.Contains(t, out, "calibrate: will ERASE and program sim:part=w25q256jv,size=4M,timing=spread bytes 0x300000 to 0x3fffff (1MiB, 256 erase blocks of 4KiB): their contents are lost. Nothing outside this range is read or written.")
	require.Contains(t, out, "profile my-w25q (calibrated on sim:part=w25q256jv,size=4M,timing=spread at ")
	require.Contains(t, out, "calibrate: the profile is physically plausible for NOR flash")
	require.Contains(t, out, "calibrate: wrote "+path)
	require.Contains(t, errOut, "calibrate: repetition 43/43")

	pr, err := sim.LoadProfile(path)
	require.NoError(t, err)
	require.Equal(t, "my-w25q", pr.Name)
	require.Equal(t, "virtual", pr.Calibration.Clock)
	require.False(t, pr.Emulated)

	s, err := flashspec.Parse("sim:profile=" + path + ",size=1M")
	require.NoError(t, err)
	p, err := s.SimPart()
	require.NoError(t, err)
	require.InEpsilon(t, 704e3, float64(p.Typical.PageProgram), 0.05)

	out, errOut, err = runCmd("bench", "--part-file", path, "--sizes", "1M", "--timings", "typical", "--workloads", "clustered-1pct",
		"--strategies", "flashcp-p", "--out", "", "--json")
	require.NoError(t, err, errOut)
	var rep bench.Report
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.NotEmpty(t, rep.Rows)
	for _, r := range rep.Rows {
		require.Equal(t, "my-w25q", r.Part)
		require.Equal(t, "4k", r.EraseModel, "a profile without block erase runs the 4k model by default")
	}
	require.Empty(t, rep.Skipped)
}

// TestCalibrateEmulatedProfile: an implausible profile (an emulator's
// instant erase) is refused by bench and sim:profile=, and runs in bench
// with --allow-implausible and a warning.
func TestCalibrateEmulatedProfile(t *testing.T) {
	p, err := sim.LookupPart("w25q256jv")
	require.NoError(t, err)
	p.Name, p.BlockEraseSize, p.Typical.BlockErase, p.Max.BlockErase = "qemu-flash1", 0, 0, 0
	pr, err := sim.ProfileOf(p, "calibrated on mtd:/dev/mtd6 (emulated)")
	require.NoError(t, err)
	pr.Emulated, pr.Typical.SectorEraseSeconds, pr.Max.SectorEraseSeconds = true, 45e-6, 120e-6
	path := filepath.Join(t.TempDir(), "qemu.json")
	var buf bytes.Buffer
	require.NoError(t, pr.Encode(&buf))
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))

	args := []string{"--part-file", path, "--sizes", "1M", "--timings", "typical", "--workloads", "clustered-1pct", "--strategies", "flashcp-p", "--out", ""}
	_, _, err = runCmd("bench", args...)
	var ee *exitError
	require.True(t, errors.As(err, &ee), "%v", err)
	require.Equal(t, 2, ee.code)
	require.Contains(t, ee.msg, "typical sector erase 45µs is faster than 1ms")
	require.Contains(t, ee.msg, "--allow-implausible")

	out, errOut, err := runCmd("bench", append(args, "--allow-implausible")...)
	require.NoError(t, err, errOut)
	require.Contains(t, errOut, "bench: WARNING: profile qemu-flash1 runs although")
	require.Contains(t, out, "WARNING: profile qemu-flash1")
	require.Contains(t, out, "qemu-flash1")

	_, err = flashspec.Parse("sim:profile=" + path)
	require.ErrorIs(t, err, sim.ErrImplausible)
}

func TestCalibrateRefusals(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--flash", "sim:part=w25q256jv,size=4M"}, "no scratch range given: --scratch OFFSET+SIZE is required"},
		{[]string{"--scratch", "0+1M"}, "--flash is required"},
		{[]string{"--flash", "sim:part=w25q256jv,size=4M", "--scratch", "0x1100+1M"}, "scratch range is not aligned to the erase size"},
		{[]string{"--flash", "sim:part=w25q256jv,size=4M", "--scratch", "3M+2M"}, "scratch range is outside the device: 0x300000+2MiB ends at 0x500000"},
		{[]string{"--flash", "sim:part=w25q256jv,size=4M", "--scratch", "0+8K"}, "scratch range is too small for the repetitions"},
		{[]string{"--flash", "sim:part=w25q256jv,size=4M", "--scratch", "0+1M", "--reps", "3"}, "too few repetitions: 3"},
		{[]string{"--flash", "sim:part=w25q256jv,size=4M", "--scratch", "1M"}, "want OFFSET+SIZE"},
		{[]string{"--flash", "sim:part=nope", "--scratch", "0+1M"}, `unknown flash part "nope"`},
		{[]string{"--flash", "sim:part=w25q256jv,size=4M", "--scratch", "0+1M", "--out", filepath.Join(dir, "no", "p.json")}, "/no does not exist"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, _, err := runCmd("calibrate", tc.args...)
			var ee *exitError
			require.True(t, errors.As(err, &ee), "%v", err)
			require.Equal(t, 2, ee.code)
			require.Contains(t, ee.msg, tc.want)
			require.NotContains(t, out, "will ERASE", "refused before announcing or touching anything")
		})
	}
}

// TestCalibrateToStdout: --out - prints the profile JSON alone on stdout
// (it can be piped into a file or a tool) and every other line, the
// warning before it erases included, on stderr.
func TestCalibrateToStdout(t *testing.T) {
	out, errOut, err := runCmd("calibrate", "--flash", "sim:part=mt25ql256,size=2M", "--scratch", "1M+256K", "--out", "-", "--emulated")
	require.NoError(t, err, errOut)
	require.True(t, strings.HasPrefix(out, "{"), out)
	pr, err := sim.DecodeProfile(strings.NewReader(out))
	require.NoError(t, err)
	require.Contains(t, errOut, "calibrate: will ERASE and program")
	require.True(t, pr.Emulated)
	require.Equal(t, "calibrated-mt25ql256", pr.Name)
	require.Contains(t, errOut, "profile calibrated-mt25ql256")
}

// TestCalibrateResolvesPartitionNames: calibrate --flash takes
// mtd:name=PARTITION as the other one-chip commands do (flashFlag), looked
// up in /proc/mtd before anything opens, the error naming the flag (this
// test's machine may lack /proc/mtd or the partition).
func TestCalibrateResolvesPartitionNames(t *testing.T) {
	_, _, err := runCmd("calibrate", "--flash", "mtd:name=no-such-partition", "--scratch", "0+64K", "--out", filepath.Join(t.TempDir(), "p.json"))
	require.Error(t, err)
	require.Contains(t, err.Error(), `calibrate: --flash: flash spec "mtd:name=no-such-partition": mtd partition "no-such-partition"`)
}

// TestCalibrateRefusesBootPartitions: calibrate erases its scratch range,
// so on an MTD device whose /proc/mtd name says a board boots from it
// ("u-boot") it refuses (exit 3) before the device opens, as selftest
// does. It ran there and erased what the range held. (No row runs past the
// check: on a machine with a real /dev/mtd0 it would erase it.)
func TestCalibrateRefusesBootPartitions(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "mtd")
	require.NoError(t, os.WriteFile(fake, []byte("dev:    size   erasesize  name\nmtd0: 00100000 00001000 \"u-boot\"\nmtd1: 00100000 00001000 \"scratch\"\n"), 0o600))
	old := procMTD
	procMTD = fake
	t.Cleanup(func() { procMTD = old })
	out := filepath.Join(dir, "p.json")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--flash", "mtd:/dev/mtd0"}, 3, `calibrate refused: /dev/mtd0 ("u-boot") looks like a partition a board boots from, and calibrate erases blocks of it; if it really is scratch, run again with --force`},
	} {
		_, _, err := runCmd("calibrate", append(tc.args, "--scratch", "0+64K", "--out", out)...)
		require.Equal(t, tc.code, statusOf(err), "%v: %v", tc.args, err)
		require.ErrorContains(t, err, tc.want)
		require.NoFileExists(t, out)
	}
}
