package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestInfoUsageSaysWhat: info get without a TYPE names the types, and
// info collect on a folder without one information file says that
// nothing was written (it printed nothing, as a success would), exit 0,
// and --json prints [].
func TestInfoUsageSaysWhat(t *testing.T) {
	dir, chips := pairFiles(t)
	_, _, err := runCLI(append([]string{"info", "get"}, chips...)...)
	require.Equal(t, exitUsage, statusOf(err))
	require.ErrorContains(t, err, "want one TYPE (one of power, fan, node, event-log, fault-log, asset), got 0")

	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.Mkdir(empty, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(empty, "powr.bin"), []byte("x"), 0o600)) // misnamed
	before := readFiles(t, dir)
	out, _, err := runCLI(append([]string{"info", "collect", "--dir", empty}, chips...)...)
	require.NoError(t, err)
	require.Contains(t, out, "info collect: no information file in "+empty)
	require.Contains(t, out, "nothing written")
	out, _, err = runCLI(append([]string{"info", "collect", "--json", "--dir", empty}, chips...)...)
	require.NoError(t, err)
	require.JSONEq(t, "[]", out)
	require.Equal(t, before, readFiles(t, dir))
}
