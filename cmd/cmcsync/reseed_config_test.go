package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TestReseedInvalidCommittedConfig: the active chip's store holds a
// committed configuration the engine refuses and the backup is blank.
// reseed refuses at once (exit 3), naming the field and --default-config,
// with both image files unchanged (it used to format the backup and then
// fail its round, exit 1); reseed --default-config formats it, commits
// the default configuration and the round; sync then runs.
func TestReseedInvalidCommittedConfig(t *testing.T) {
	dir, chips := pairFiles(t)
	l := syncJSON(t, chips...).Layout
	a, b := filepath.Join(dir, "a.img"), filepath.Join(dir, "b.img")
	part, err := sim.LookupPart("mx66l1g45g")
	require.NoError(t, err)
	fa, err := sim.OpenFile(a, sim.Options{Part: part, Size: 8 << 20})
	require.NoError(t, err)
	s, err := store.Open(fa, l.Store.Offset, l.Store.Size, store.Options{})
	require.NoError(t, err)
	_, err = s.CommitConfig(store.Config{Types: []uint8{1}, Threshold: 2 * time.Second})
	require.NoError(t, err)
	s.Release()
	require.NoError(t, fa.Close())
	blankFile(t, b)
	a0, b0 := readFile(t, a), readFile(t, b)

	_, _, err = runCLI(append([]string{"reseed"}, chips...)...)
	code, msg := exitOf(t, err)
	require.Equal(t, exitRefused, code, msg)
	require.Contains(t, msg, "interval 0s out of range")
	require.Contains(t, msg, "cmcsync reseed --default-config")
	require.Equal(t, a0, readFile(t, a), "nothing written")
	require.Equal(t, b0, readFile(t, b), "nothing written")

	out, errOut, err := runCLI(append([]string{"reseed", "--default-config", "--json"}, chips...)...)
	require.NoError(t, err, errOut)
	var r reseedResult
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	require.True(t, r.ConfigReplaced)
	require.Equal(t, "committed", r.Round.Outcome)
	require.Equal(t, a0, readFile(t, a), "reseed wrote the primary")
	out, _, err = runCLI(append([]string{"config", "get"}, chips...)...)
	require.NoError(t, err)
	require.Contains(t, out, "interval 5m0s")
	require.Contains(t, []string{"committed", "nothing-changed"}, syncJSON(t, chips...).Round.Outcome)
	_, err = os.Stat(b)
	require.NoError(t, err)
}
