package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/internal/shellquote/shelltest"
)

// TestServeMissingBackupNamesTheReseed: serve on its state folder whose
// backup image file is gone (a replaced standby) refuses (exit 2) and
// names the reseed command with the state folder's chips, which a new
// user could not guess ("`cmcsync reseed` (same chips)" named none);
// that command, run as given, brings the backup back, and serve starts.
func TestServeMissingBackupNamesTheReseed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	r := startServe(t, "--state", dir, "--cmc-step", "0")
	r.stop(t)
	for _, n := range []string{"chip1.img", "chip1.img.wear"} {
		require.NoError(t, os.Remove(filepath.Join(dir, n)))
	}
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"serve", "--listen", "127.0.0.1:0", "--state", dir, "--cmc-step", "0"}, &out, &errOut)
	require.Equal(t, exitUsage, statusOf(err), "%v", err)
	_, rest, ok := strings.Cut(err.Error(), "`cmcsync reseed ")
	require.True(t, ok, "%v", err)
	cmd, _, ok := strings.Cut(rest, "`")
	require.True(t, ok, "%v", err)
	args := shelltest.Words(t, "reseed "+cmd) // as a shell reads it
	require.Contains(t, args, "--backup")
	_, errText, err := runCLI(args...)
	require.NoError(t, err, "%v: %s", args, errText)
	startServe(t, "--state", dir, "--cmc-step", "0").stop(t)
}
