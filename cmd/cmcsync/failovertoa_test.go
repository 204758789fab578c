package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFailoverToChipASaysWhatFailed: after a failover to chip B, a round
// from it and a failback, chip B's store holds the role record that made
// chip A active again. Chip B replaced by a blank one takes that record
// with it: chip A's store says chip B is active, so the next sync probes
// chip B, finds no image and fails over to chip A. Its message must name
// chip B as the chip to repair (and reseed), not tell to repair chip A
// and fail back, which is refused ("chip A is already the active chip").
func TestFailoverToChipASaysWhatFailed(t *testing.T) {
	dir, chips := pairFiles(t)
	a, b := filepath.Join(dir, "a.img"), filepath.Join(dir, "b.img")
	f, err := os.OpenFile(a, os.O_RDWR, 0)
	require.NoError(t, err)
	_, err = f.WriteAt(make([]byte, 4096), 0x80000) // chip A's region header: not one
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, _, err = runCLI(append([]string{"sync"}, chips...)...)
	require.Equal(t, exitFailure, statusOf(err), "%v", err)
	require.ErrorContains(t, err, "once chip A is repaired, cmcsync failback makes it active again")
	_, _, err = runCLI(append([]string{"sync"}, chips...)...)
	require.NoError(t, err)
	_, _, err = runCLI(append([]string{"failback"}, chips...)...)
	require.NoError(t, err)
	_, _, err = runCLI(append([]string{"sync"}, chips...)...)
	require.NoError(t, err)

	blankFile(t, b)
	require.NoError(t, os.Remove(b+".wear"))
	_, _, err = runCLI(append([]string{"sync"}, chips...)...)
	require.Equal(t, exitFailure, statusOf(err), "%v", err)
	require.ErrorContains(t, err, "(chip 0) is now active")
	require.ErrorContains(t, err, "chip B, the standby now, is the one that failed")
	require.NotContains(t, err.Error(), "failback makes it active again")
	_, _, err = runCLI(append([]string{"reseed"}, chips...)...)
	require.NoError(t, err, "the way the message names")
}
