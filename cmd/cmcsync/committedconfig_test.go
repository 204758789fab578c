package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCommittedConfigInvalidCommands: a backup whose committed
// configuration the engine refuses (no types, group size 2) makes sync
// refuse (exit 3) naming the field and `cmcsync config set`, with both
// image files unchanged; config get and inspect still read; config set
// repairs it and the next sync commits a generation.
func TestCommittedConfigInvalidCommands(t *testing.T) {
	dir, chips := pairFiles(t)
	commitInvalidConfig(t, dir, chips)
	read := func() [2][]byte {
		var out [2][]byte
		for i, n := range []string{"a.img", "b.img"} {
			b, err := os.ReadFile(filepath.Join(dir, n))
			require.NoError(t, err)
			out[i] = b
		}
		return out
	}
	before := read()

	_, _, err := runCLI(append([]string{"sync"}, chips...)...)
	code, msg := exitOf(t, err)
	require.Equal(t, exitRefused, code, msg)
	require.Contains(t, msg, "the committed sync configuration is invalid")
	require.Contains(t, msg, "select at least one information type")
	require.Contains(t, msg, "cmcsync config set")
	require.Equal(t, before, read(), "nothing written")

	out, _, err := runCLI(append([]string{"config", "get"}, chips...)...)
	require.NoError(t, err)
	require.Contains(t, out, "group-size 2")
	_, _, err = runCLI("inspect", "--flash", chips[3])
	require.NoError(t, err)

	_, _, err = runCLI(append([]string{"config", "set", "--types", "all", "--group-size", "0"}, chips...)...)
	require.NoError(t, err)
	require.Contains(t, []string{"committed", "nothing-changed"}, syncJSON(t, chips...).Round.Outcome)
}
