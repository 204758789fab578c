package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TestCommittedConfigInvalidCommands: a backup whose committed
// configuration the engine refuses (no types, group size 2) makes sync
// refuse (exit 3) naming the field and `cmcsync config set`, with both
// image files unchanged; config get and inspect still read; config set
// repairs it and the next sync commits a generation.
func TestCommittedConfigInvalidCommands(t *testing.T) {
	dir, chips := pairFiles(t)
	l := syncJSON(t, chips...).Layout
	part, err := sim.LookupPart("mx66l1g45g")
	require.NoError(t, err)
	b, err := sim.OpenFile(filepath.Join(dir, "b.img"), sim.Options{Part: part, Size: 8 << 20})
	require.NoError(t, err)
	s, err := store.Open(b, l.Store.Offset, l.Store.Size, store.Options{})
	require.NoError(t, err)
	_, err = s.CommitConfig(store.Config{Interval: time.Minute, Threshold: 2 * time.Second, GroupSize: 2})
	require.NoError(t, err)
	s.Release()
	require.NoError(t, b.Close())
	read := func() [2][]byte {
		var out [2][]byte
		for i, n := range []string{"a.img", "b.img"} {
			out[i], err = os.ReadFile(filepath.Join(dir, n))
			require.NoError(t, err)
		}
		return out
	}
	before := read()

	_, _, err = runCLI(append([]string{"sync"}, chips...)...)
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
