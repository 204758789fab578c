package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSpecPathWithComma: an image file in a folder whose name has a comma
// is given quoted in the spec (docs/CLI.md, Flash specs): a pair made there
// syncs and inspects; the same path unquoted exits 2, creates nothing and
// shows the value quoted.
func TestSpecPathWithComma(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run,1")
	require.NoError(t, os.Mkdir(dir, 0o755))
	a, b := filepath.Join(dir, "a.img"), filepath.Join(dir, "b.img")
	quoted := func(p string) string { return testChipSpec + `"` + p + `"` }

	_, _, err := runCLI("sync", "--primary", quoted(a), "--backup", quoted(b), "--populate")
	require.NoError(t, err)
	_, _, err = runCLI("sync", "--primary", quoted(a), "--backup", quoted(b))
	require.NoError(t, err)
	out, _, err := runCLI("inspect", "--flash", quoted(b))
	require.NoError(t, err, out)

	other := filepath.Join(t.TempDir(), "x,size=4M")
	require.NoError(t, os.Mkdir(other, 0o755))
	for _, tc := range []struct {
		spec, want string
	}{
		{testChipSpec + filepath.Join(dir, "c.img"), `quote the value, file="` + filepath.Join(dir, "c.img") + `"`},
		{testChipSpec + filepath.Join(other, "c.img"), `key "size" given twice (a comma separates keys: if it belongs to the file after file=, quote the value, file="` + filepath.Join(other, "c.img") + `")`},
	} {
		before := snapshotDir(t, filepath.Dir(dir))
		_, _, err = runCLI("sync", "--primary", tc.spec, "--backup", testChipSpec+filepath.Join(other, "d.img"), "--populate")
		require.Equal(t, 2, statusOf(err), "%v", err)
		require.ErrorContains(t, err, tc.want)
		require.Empty(t, unexpectedChanges(before, snapshotDir(t, filepath.Dir(dir)), nil))
		require.NoFileExists(t, filepath.Join(other, "d.img"))
	}
}
