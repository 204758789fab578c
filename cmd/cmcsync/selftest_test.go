package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/sim"
)

func exitOf(t *testing.T, err error) (int, string) {
	t.Helper()
	var ee *exitError
	require.ErrorAs(t, err, &ee)
	return ee.code, ee.msg
}

func TestSelftestPasses(t *testing.T) {
	for _, spec := range []string{
		"sim:part=w25q256jv,size=4M",
		"sim:part=mt29f2g01,size=4M",
		"sim:part=mx66l1g45g,timing=max,name=flash1",
	} {
		t.Run(spec, func(t *testing.T) {
			out, _, err := runCmd("selftest", "--flash", spec)
			require.NoError(t, err, out)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			last := lines[len(lines)-1]
			var n int
			_, err = fmt.Sscanf(last, "selftest: %d checks passed", &n)
			require.NoError(t, err, last)
			require.Equal(t, fmt.Sprintf("selftest: %d checks passed", n), last)
			require.GreaterOrEqual(t, n, 10)
			require.Equal(t, n, strings.Count(out, "\npass  "))
			require.Regexp(t, `\nselftest: \d+ reads \(\d+ bytes\), \d+ programs \(\d+ bytes\), \d+ erases, device time `, out, "sizes with their unit")
			require.NotContains(t, out, "FAIL")
			for _, c := range checkNames() {
				require.Contains(t, out, "  "+c+" ")
			}
		})
	}
}

func TestSelftestSubset(t *testing.T) {
	out, _, err := runCmd("selftest", "--flash", "sim:part=w25q256jv,size=1M", "--check", "geometry,erase-neighbours")
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(out, "selftest: 2 checks passed\n"), out)
	require.NotContains(t, out, "nor-and")
}

func TestSelftestBadInvocations(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"--flash", "sim:part=nope"}, 2, append([]string{`unknown flash part "nope"`}, sim.PartNames()...)},
		{nil, 2, []string{"--flash is required"}},
		{[]string{"--flash", "sim:part=w25q256jv,speed=9"}, 2, []string{`unknown key "speed"`, "part, size, file, timing, name"}},
		{[]string{"--flash", "sim:part=w25q256jv,size=1M", "--check", "geometry,nope"}, 2, []string{`unknown check "nope"`, "erase-neighbours"}},
		{[]string{"--flash", "sim:part=w25q256jv,size=1M", "extra"}, 2, []string{"unexpected arguments"}},
		{[]string{"--bogus"}, 2, []string{"flag provided but not defined"}},
		{[]string{"--flash", "sim:part=w25q256jv,size=8K"}, 1, []string{"at least 4"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := runCmd("selftest", tc.args...)
			code, msg := exitOf(t, err)
			require.Equal(t, tc.code, code, msg)
			for _, w := range tc.want {
				require.Contains(t, msg, w)
			}
		})
	}
}

func TestSelftestMissingMTD(t *testing.T) {
	_, _, err := runCmd("selftest", "--flash", "mtd:/nonexistent/mtd9")
	code, msg := exitOf(t, err)
	require.Equal(t, 1, code)
	require.Contains(t, msg, "/nonexistent/mtd9")
	if runtime.GOOS == "linux" {
		require.Contains(t, msg, "/proc/mtd")
	}
}

// neighbourEraser is a fault schedule under which erasing block 1 also
// disturbs block 2 (seeded random bytes over its first page, just before
// the erase): the erase-neighbours check, which erases block 1 between
// programmed blocks 0 and 2, must catch it.
const neighbourEraser = "(seed 1) (on (and erase (addr 0x1000 0x2000)) (scribble primary 0x2000 0x2100))"

func TestSelftestReportsFailures(t *testing.T) {
	sched, err := faults.ParseSchedule(neighbourEraser)
	require.NoError(t, err)
	orig := openSelftestFlash
	t.Cleanup(func() { openSelftestFlash = orig })
	openSelftestFlash = func(s flashspec.Spec, c *sim.Clock) (hal.Flash, error) {
		f, err := orig(s, c)
		if err != nil {
			return nil, err
		}
		return faults.NewInjector(sched, faults.Options{}).Wrap(f, faults.Primary), nil
	}
	spec := "sim:part=w25q256jv,size=1M"
	out, _, err := runCmd("selftest", "--flash", spec)
	code, msg := exitOf(t, err)
	require.Equal(t, 1, code)
	require.Contains(t, msg, "erase-neighbours")
	require.Contains(t, out, "FAIL  erase-neighbours")
	require.Contains(t, out, "checks failed: erase-neighbours\n", "only that check")
	require.Contains(t, out, "replay: cmcsync selftest --flash "+spec+" --check ")
	require.NotContains(t, out, "checks passed")
	require.True(t, errors.As(err, new(*exitError)))
}

// TestSelftestRefusesUnnamedDevice: with a configuration file, selftest on
// an MTD device the file does not name is refused (exit 3) unless forced.
func TestSelftestRefusesUnnamedDevice(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"chips": {"primary": {"device": "mtd:/nonexistent/mtd4"}, "backup": {"device": "mtd:/nonexistent/mtd6"}}}`), 0o600))
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--flash", "mtd:/nonexistent/mtd5", "--config", cfg}, 3, "is not one of the chips the configuration file names as cmcsync's (/nonexistent/mtd4, /nonexistent/mtd6)"},
		{[]string{"--flash", "mtd:/nonexistent/mtd5", "--config", cfg, "--force"}, 1, "/nonexistent/mtd5"}, // past the check: the device is missing
		{[]string{"--flash", "mtd:/nonexistent/mtd6", "--config", cfg}, 1, "/nonexistent/mtd6"},
	} {
		_, _, err := runCmd("selftest", tc.args...)
		require.Equal(t, tc.code, statusOf(err), "%v: %v", tc.args, err)
		require.ErrorContains(t, err, tc.want)
	}
}
