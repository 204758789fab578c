package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSyncDoesNotCreateANewPair: a sync without --populate on two image
// files that do not exist is bad input (exit 2) and creates nothing; with
// --populate it makes the pair, and then a sync whose backup file is gone
// is refused too (exit 2, naming reseed) and creates no blank backup.
func TestSyncDoesNotCreateANewPair(t *testing.T) {
	dir := t.TempDir()
	p, b := filepath.Join(dir, "p.img"), filepath.Join(dir, "b.img")
	specs := []string{"--primary", testChipSpec + p, "--backup", testChipSpec + b}
	_, _, err := runCmd("sync", specs...)
	require.Equal(t, 2, statusOf(err), "%v", err)
	require.ErrorContains(t, err, "do not exist (nothing created)")
	entries, rerr := os.ReadDir(dir)
	require.NoError(t, rerr)
	require.Empty(t, entries, "sync created files")

	_, _, err = runCmd("sync", append([]string{"--populate"}, specs...)...)
	require.NoError(t, err)
	require.NoError(t, os.Remove(b))
	require.NoError(t, os.Remove(b+".wear"))
	_, _, err = runCmd("sync", specs...)
	require.Equal(t, 2, statusOf(err), "%v", err)
	require.ErrorContains(t, err, "the backup's image file "+b+" does not exist (nothing created)")
	require.ErrorContains(t, err, "cmcsync reseed")
	_, serr := os.Stat(b)
	require.ErrorIs(t, serr, os.ErrNotExist, "a refused sync leaves no blank backup file")
	_, serr = os.Stat(b + ".wear")
	require.ErrorIs(t, serr, os.ErrNotExist)
}

// TestSyncRefusedOrBadInputLeavesNoNewFiles: a sync that exits 2 (a
// layout the chips cannot hold) or 3 (--populate refused: the primary
// holds data) removes the image and wear files opening its chips created;
// files that were there stay as they were.
func TestSyncRefusedOrBadInputLeavesNoNewFiles(t *testing.T) {
	for _, tc := range []struct {
		name        string
		primaryData bool
		args        []string
		code        int
	}{
		{"bad layout with both new", false, []string{"--populate", "--info-size", "64M"}, 2},
		{"populate refused with the backup new", true, []string{"--populate"}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p, b := filepath.Join(dir, "p.img"), filepath.Join(dir, "b.img")
			var want []byte
			if tc.primaryData {
				want = bytes.Repeat([]byte{0x5a}, 8<<20)
				require.NoError(t, os.WriteFile(p, want, 0o644))
			}
			specs := []string{"--primary", testChipSpec + p, "--backup", testChipSpec + b}
			_, _, err := runCmd("sync", append(tc.args, specs...)...)
			require.Equal(t, tc.code, statusOf(err), "%v", err)
			entries, rerr := os.ReadDir(dir)
			require.NoError(t, rerr)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if tc.primaryData {
				require.Equal(t, []string{"p.img"}, names, "only the file that was there")
				got, rerr := os.ReadFile(p)
				require.NoError(t, rerr)
				require.Equal(t, want, got)
			} else {
				require.Empty(t, names)
			}
		})
	}
}

// TestPairCommandsRefuseANewPair: the commands that open a formatted pair
// refuse two image files that do not exist (exit 2) and create nothing
// (they created two blank chips, then failed on them with exit 1).
func TestPairCommandsRefuseANewPair(t *testing.T) {
	for _, cmd := range [][]string{{"config", "get"}, {"config", "set", "--interval", "1m"}, {"info", "get", "power"}, {"upgrade", "keep"}, {"failback"}} {
		t.Run(strings.Join(cmd, " "), func(t *testing.T) {
			dir := t.TempDir()
			specs := []string{"--primary", testChipSpec + filepath.Join(dir, "p.img"), "--backup", testChipSpec + filepath.Join(dir, "b.img")}
			_, _, err := runCLI(append(cmd, specs...)...)
			require.Equal(t, 2, statusOf(err), "%v", err)
			require.ErrorContains(t, err, "do not exist (nothing created)")
			require.ErrorContains(t, err, "cmcsync sync --populate")
			entries, rerr := os.ReadDir(dir)
			require.NoError(t, rerr)
			require.Empty(t, entries)
		})
	}
}
