package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestServeDiskFullHelper is not a test: TestServeDiskFull runs the test
// binary with CMCSYNC_DISKFULL_HELPER set to a state folder, to run serve
// there in a process that may write no file larger than
// CMCSYNC_DISKFULL_BYTES (RLIMIT_FSIZE): a disk that fills up.
func TestServeDiskFullHelper(t *testing.T) {
	dir := os.Getenv("CMCSYNC_DISKFULL_HELPER")
	if dir == "" {
		return
	}
	limit, err := strconv.ParseUint(os.Getenv("CMCSYNC_DISKFULL_BYTES"), 10, 64)
	if err != nil {
		panic(err)
	}
	signal.Ignore(syscall.SIGXFSZ) // the write fails instead (EFBIG)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
		panic(err)
	}
	err = run(context.Background(), []string{"serve", "--state", dir, "--listen", "127.0.0.1:0", "--cmc-step", "0"}, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cmcsync:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// TestServeDiskFull: a first start whose disk fills while it creates a
// chip's image file (a file size limit of 4 MiB: the 8 MiB image does not
// fit) fails with an error that says what to do and leaves no short image
// behind; the next plain start completes the format and syncs.
func TestServeDiskFull(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestServeDiskFullHelper$")
	cmd.Env = append(os.Environ(), "CMCSYNC_DISKFULL_HELPER="+dir, "CMCSYNC_DISKFULL_BYTES="+strconv.Itoa(4<<20))
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "%s", out)
	require.Equal(t, 1, exit.ExitCode(), "%s", out)
	require.Contains(t, string(out), "chip0.img")
	require.Contains(t, string(out), "free disk space and start again", "the error says what to do")

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		require.False(t, strings.HasSuffix(e.Name(), ".tmp"), "a temporary file is left: %s", e.Name())
	}
	require.Contains(t, names, "format-in-progress")
	require.NotContains(t, names, "chip0.img", "no short image")

	r := startServeProcess(t, "--state", dir, "--cmc-step", "0")
	require.Contains(t, r.stdout.String(), "formatted both chips")
	var round struct{ Outcome string }
	require.Equal(t, 200, r.call(t, "POST", "/api/sync", tokenOf(t, dir), "{}", &round))
	require.Contains(t, []string{"committed", "nothing-changed"}, round.Outcome)
	r.stop(t)
	require.NoFileExists(t, filepath.Join(dir, "format-in-progress"))
}
