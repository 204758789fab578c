package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSyncDoesNotCreateANewPair: a sync without --populate on two image
// files that do not exist is bad input (exit 2) and creates nothing; with
// --populate it makes the pair, and then a sync whose backup file is gone
// goes on to the engine (a blank chip in place of a replaced one).
func TestSyncDoesNotCreateANewPair(t *testing.T) {
	dir := t.TempDir()
	p, b := filepath.Join(dir, "p.img"), filepath.Join(dir, "b.img")
	specs := []string{"--primary", "sim:part=mx66l1g45g,size=8M,file=" + p, "--backup", "sim:part=mx66l1g45g,size=8M,file=" + b}
	_, _, err := runCmd("sync", specs...)
	require.Equal(t, 2, statusOf(err), "%v", err)
	require.ErrorContains(t, err, "do not exist (nothing created)")
	entries, rerr := os.ReadDir(dir)
	require.NoError(t, rerr)
	require.Empty(t, entries, "sync created files")

	_, _, err = runCmd("sync", append([]string{"--populate"}, specs...)...)
	require.NoError(t, err)
	require.NoError(t, os.Remove(b))
	_, _, err = runCmd("sync", specs...)
	require.NotContains(t, err.Error(), "do not exist")
	_, serr := os.Stat(b)
	require.NoError(t, serr, "the replaced backup is a blank image file")
}
