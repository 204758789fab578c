package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSyncRecordedInfoSize is issue 14's case: a pair populated with
// --info-size 4M and then synced without it is opened with the size its
// region header records, never reformatted; a size that contradicts the
// header is refused (exit 2) and --populate on formatted chips formats
// nothing.
func TestSyncRecordedInfoSize(t *testing.T) {
	dir := t.TempDir()
	a := "sim:part=mx66l1g45g,size=32M,file=" + filepath.Join(dir, "a.img")
	b := "sim:part=mx66l1g45g,size=32M,file=" + filepath.Join(dir, "b.img")
	res := syncJSON(t, "--primary", a, "--backup", b, "--populate", "--info-size", "4M")
	require.True(t, res.Formatted)
	require.Equal(t, int64(4<<20), res.Layout.Info.Size)

	for i, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{name: "plain sync opens them", code: 0, want: "round: nothing-changed, generation 2"},
		{name: "the same size given", args: []string{"--info-size", "4M"}, code: 0, want: "generation 3"},
		{name: "another size is refused", args: []string{"--info-size", "8M"}, code: 2, want: "records 4MiB, the size given is 8MiB"},
		{name: "--populate formats nothing", args: []string{"--populate"}, code: 0, want: "generation 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := readFiles(t, dir)
			out, errOut, err := runCLI(append([]string{"sync", "--primary", a, "--backup", b}, tc.args...)...)
			require.Equal(t, tc.code, statusOf(err), "%v\n%s%s", err, out, errOut)
			if err != nil {
				require.ErrorContains(t, err, tc.want)
				require.Equal(t, before, readFiles(t, dir), "a refused command writes nothing")
				return
			}
			require.Contains(t, out, tc.want)
			require.NotContains(t, out, "formatted", "step %d", i)
		})
	}
	out, _, err := runCLI("inspect", "--flash", b)
	require.NoError(t, err, out)
	require.Contains(t, out, "info 0x100000+4MiB")
}

// TestPopulateRefusesData: --populate never erases data on a chip the user
// did not name with --force, and its hints say that it erases.
func TestPopulateRefusesData(t *testing.T) {
	for _, tc := range []struct {
		name  string
		poke  map[string]int64 // chip file -> offset of a byte written before
		args  []string
		code  int
		wants []string
	}{
		{name: "blank pair without --populate", code: 1, wants: []string{"neither chip holds a cmcsync store", "nothing (erased)", "ERASES"}},
		{name: "blank pair", args: []string{"--populate"}, code: 0},
		{name: "a bootloader on the primary", poke: map[string]int64{"a.img": 0x40}, args: []string{"--populate"}, code: 3,
			wants: []string{"primary (sim:", "holds data that is not cmcsync's (first byte not erased at 0x40)", "--populate erases", "--populate --force=primary"}},
		{name: "a bootloader on the primary and the backup forced", poke: map[string]int64{"a.img": 0x40}, args: []string{"--populate", "--force=backup"}, code: 3,
			wants: []string{"--force=primary"}},
		{name: "a bootloader on the primary and the primary forced", poke: map[string]int64{"a.img": 0x40}, args: []string{"--populate", "--force=primary"}, code: 0},
		{name: "a byte at the store's end of the backup", poke: map[string]int64{"b.img": 8<<20 - 1}, args: []string{"--populate"}, code: 3,
			wants: []string{"backup (sim:", "--force=backup"}},
		{name: "--force without --populate", args: []string{"--force=primary"}, code: 2, wants: []string{"--force goes with --populate"}},
		{name: "--force naming no chip", args: []string{"--populate", "--force=chip1"}, code: 2, wants: []string{`"chip1" is not a chip`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			spec := func(n string) string { return testChipSpec + filepath.Join(dir, n) }
			for _, n := range []string{"a.img", "b.img"} {
				img := bytes.Repeat([]byte{0xFF}, 8<<20)
				if off, ok := tc.poke[n]; ok {
					img[off] = 0x5A
				}
				require.NoError(t, os.WriteFile(filepath.Join(dir, n), img, 0o600))
			}
			before := readFiles(t, dir)
			out, errOut, err := runCLI(append([]string{"sync", "--primary", spec("a.img"), "--backup", spec("b.img")}, tc.args...)...)
			require.Equal(t, tc.code, statusOf(err), "%v\n%s%s", err, out, errOut)
			for _, w := range tc.wants {
				require.ErrorContains(t, err, w)
			}
			if tc.code != 0 {
				require.Equal(t, before, readFiles(t, dir), "a refused command writes nothing")
			} else {
				require.Contains(t, out, "formatted both chips")
			}
		})
	}
}

// TestServeFormatRefusesData: serve --format on a synced pair is refused
// (exit 3) unless --force names both chips.
func TestServeFormatRefusesData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	r := startServe(t, "--state", dir, "--cmc-step", "0")
	r.stop(t)
	before := readFiles(t, dir)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--format"}, 3, "--format --force=primary,backup"},
		{[]string{"--format", "--force", "primary"}, 3, "--format --force=backup"},
		{[]string{"--force", "primary"}, 2, "--force goes with --format"},
	} {
		_, _, err := runCLI(append([]string{"serve", "--listen", "127.0.0.1:0", "--state", dir, "--cmc-step", "0"}, tc.args...)...)
		require.Equal(t, tc.code, statusOf(err), "%v: %v", tc.args, err)
		require.ErrorContains(t, err, tc.want)
	}
	after := readFiles(t, dir)
	for _, n := range []string{"chip0.img", "chip1.img"} {
		require.Equal(t, before[n], after[n], "%s unchanged", n)
	}
	r = startServe(t, "--state", dir, "--cmc-step", "0", "--format", "--force=primary,backup")
	require.Contains(t, r.stdout.String(), "formatted both chips")
}

// TestDeviceBusy: while serve runs in another process, a command on its
// chips fails with exit 3 naming that process.
func TestDeviceBusy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a daemon process")
	}
	dir := filepath.Join(t.TempDir(), "state")
	r := startServeProcess(t, "--state", dir, "--cmc-step", "0")
	a := testChipSpec + filepath.Join(dir, "chip0.img")
	b := testChipSpec + filepath.Join(dir, "chip1.img")
	// A command that can go through the daemon's API says how when it
	// was given no configuration file: "use its API" alone left a new
	// user of serve's embedded default without a way.
	const how = "to go through the daemon's API, give this command a configuration file with the daemon's listen and state_dir"
	for _, tc := range []struct {
		args []string
		held string // what the error names as held
		api  bool   // the command can go through the API
	}{
		{[]string{"sync", "--primary", a, "--backup", b}, "chip0.img", false},
		{[]string{"serve", "--listen", "127.0.0.1:0", "--state", dir}, "serve.lock", false}, // the state folder is locked first
		{[]string{"serve", "--listen", "127.0.0.1:0", "--state", filepath.Join(t.TempDir(), "other"), "--primary", a, "--backup", b}, "chip0.img", false},
		{[]string{"selftest", "--flash", a}, "chip0.img", false},
		{[]string{"config", "get", "--primary", a, "--backup", b}, "chip0.img", true},
		{[]string{"upgrade", "keep", "--primary", a, "--backup", b}, "chip0.img", true},
	} {
		args := tc.args
		_, _, err := runCLI(args...)
		require.Equal(t, 3, statusOf(err), "%v", err)
		require.ErrorContains(t, err, "device busy: "+filepath.Join(dir, tc.held)+" is held by ")
		require.ErrorContains(t, err, "(pid ")
		require.ErrorContains(t, err, "TestServeHelperProcess")
		if tc.api {
			require.ErrorContains(t, err, how)
		} else {
			require.NotContains(t, err.Error(), how)
		}
	}
	r.stop(t)
	_, _, err := runCLI("sync", "--primary", a, "--backup", b)
	require.NoError(t, err, "free once serve stopped")
}

// readFiles returns the SHA-256 of every chip image (*.img) of dir by
// name.
func readFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".img" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		out[e.Name()] = fmt.Sprintf("%d bytes, sha256 %x", len(b), sha256.Sum256(b))
	}
	return out
}

// TestBusyGoesThroughTheAPI: while serve holds the chips, config and
// upgrade with the same configuration file go through its API; without
// the file they fail busy (exit 3).
func TestBusyGoesThroughTheAPI(t *testing.T) {
	r, cfg, a, b, _ := startServeWithConfigFile(t)
	dir := filepath.Dir(cfg)

	_, _, err := runCLI("config", "set", "--primary", a, "--backup", b, "--interval", "45s")
	require.Equal(t, 3, statusOf(err), "%v", err)
	badFile := filepath.Join(dir, "bad.raw")
	require.NoError(t, os.WriteFile(badFile, []byte("0123456789abcde"), 0o600)) // 15 bytes: no SEL record

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"config", "set", "--interval", "45s", "--verify=false"}, 0, "interval 45s"},
		{[]string{"config", "get"}, 0, "interval 45s\nthreshold 2s\nverify false"},
		{[]string{"config", "set", "--interval", "100h"}, 2, ""},
		{[]string{"upgrade", "keep"}, 3, ""}, // refused by the daemon (409): no upgrade pending
		{[]string{"failback"}, 3, ""},        // refused by the daemon (409): chip A is active
		{[]string{"info", "put", "event-log", selFile(t, dir, 3)}, 0, "event-log: written from"},
		{[]string{"info", "put", "event-log", selFile(t, dir, 3)}, 0, "unchanged (nothing written)"},
		{[]string{"info", "put", "event-log", badFile}, 2, ""},
	} {
		out, errOut, err := runCLI(append(tc.args, "--config", cfg)...)
		require.Equal(t, tc.code, statusOf(err), "%v: %v\n%s", tc.args, err, errOut)
		require.Contains(t, out, tc.want)
		require.Contains(t, errOut, "running daemon", "%v went through the API", tc.args)
	}
	// A value out of range is named by its flag, as without a daemon (it
	// was "daemon API: ... invalid request: interval_seconds: ...").
	_, _, err = runCLI("config", "set", "--interval", "100h", "--config", cfg)
	require.ErrorContains(t, err, "config set: --interval: sync interval 100h is out of range: choose between 1s and 24h")
	var c struct {
		IntervalSeconds float64 `json:"interval_seconds"`
	}
	require.Equal(t, 200, r.call(t, "GET", "/api/config", "", "", &c))
	require.Equal(t, 45.0, c.IntervalSeconds)
}

// TestPairOfOneChip: --primary and --backup naming one image file (also
// through another spelling of its path) are refused as a bad command line
// (exit 2) before anything is created or written; it was "device busy"
// (exit 3), as if another process held the chip.
func TestPairOfOneChip(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "one.img")
	spec := func(path string) string { return testChipSpec + path }
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"sync, same path, file missing", []string{"sync", "--primary", spec(img), "--backup", spec(img), "--populate"}},
		{"sync, same file, other spelling", []string{"sync", "--primary", spec(img), "--backup", spec(filepath.Join(dir, ".", "one.img"))}},
		{"config get", []string{"config", "get", "--primary", spec(img), "--backup", spec(img)}},
		{"serve", []string{"serve", "--state", dir, "--listen", "127.0.0.1:0", "--primary", spec(img), "--backup", spec(img)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCLI(tc.args...)
			require.Equal(t, 2, statusOf(err), "%v", err)
			require.ErrorContains(t, err, "name the same chip")
			_, serr := os.Stat(img)
			require.ErrorIs(t, serr, os.ErrNotExist, "nothing created")
		})
	}
}
