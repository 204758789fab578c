package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/internal/jsonout"
)

// blankFile overwrites the image file p with 0xFF: a new blank chip.
func blankFile(t *testing.T, p string) {
	t.Helper()
	st, err := os.Stat(p)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, bytes.Repeat([]byte{0xFF}, int(st.Size())), 0o600))
}

// TestReseedWalkThrough: a backup chip replaced by a blank one. sync fails
// (exit 1) with a hint naming reseed and saying serve --format erases both
// stores; reseed brings the backup back (exit 0) without writing the
// primary; sync then runs; a second reseed refuses (exit 3) writing nothing.
func TestReseedWalkThrough(t *testing.T) {
	dir, chips := pairFiles(t)
	a, b := filepath.Join(dir, "a.img"), filepath.Join(dir, "b.img")
	blankFile(t, b)
	_, _, err := runCLI(append([]string{"sync"}, chips...)...)
	require.Equal(t, exitFailure, statusOf(err), "%v", err)
	require.ErrorContains(t, err, "`cmcsync reseed`")
	require.ErrorContains(t, err, "`cmcsync serve --format` formats BOTH chips and ERASES both stores")

	before := readFile(t, a)
	out, errOut, err := runCLI(append([]string{"reseed", "--json"}, chips...)...)
	require.NoError(t, err, errOut)
	require.NoError(t, jsonout.Check([]byte(out)), out)
	var r reseedResult
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	require.Equal(t, "backup", r.Standby)
	require.Equal(t, 1, r.StandbyID)
	require.Equal(t, 0, r.ActiveChip)
	require.False(t, r.Erased)
	require.Equal(t, "committed", r.Round.Outcome)
	require.Equal(t, before, readFile(t, a), "reseed wrote the primary")

	res := syncJSON(t, chips...)
	require.Equal(t, 0, res.Status.ActiveChip)

	a0, b0 := readFile(t, a), readFile(t, b)
	_, _, err = runCLI(append([]string{"reseed"}, chips...)...)
	require.Equal(t, exitRefused, statusOf(err), "%v", err)
	require.ErrorContains(t, err, "nothing to reseed")
	// The chip's name is left out when it only repeats its role (the
	// command line names unnamed simulated chips primary and backup).
	require.ErrorContains(t, err, "the standby chip B (given as the backup) already holds a valid store of this pair")
	require.Equal(t, a0, readFile(t, a))
	require.Equal(t, b0, readFile(t, b))
}

// TestReseedRefusals: exit 3 (or 2 for bad input), nothing written and no
// image file created.
func TestReseedRefusals(t *testing.T) {
	spec := func(p string) string { return testChipSpec + p }
	// foreignStandby: chip B (b.img) replaced by a chip whose store range
	// holds someone's data.
	foreignStandby := func(t *testing.T, dir string, l jsonout.Layout) (string, string) {
		p := filepath.Join(dir, "b.img")
		blankFile(t, p)
		img := readFile(t, p)
		copy(img[l.Store.Offset+5*4096:], "someone's data")
		require.NoError(t, os.WriteFile(p, img, 0o600))
		return filepath.Join(dir, "a.img"), p
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string, l jsonout.Layout) (primary, backup string)
		extra []string
		code  int
		want  string
	}{
		{"foreign data on the standby", foreignStandby, nil, exitRefused, "ERASE"},
		{"force names the active chip", foreignStandby, []string{"--force", "primary"}, exitRefused, "ERASE"},
		{"the missing chip is the active one", func(t *testing.T, dir string, l jsonout.Layout) (string, string) {
			return filepath.Join(dir, "new-a.img"), filepath.Join(dir, "b.img")
		}, nil, exitRefused, "failback"},
		{"both files missing", func(t *testing.T, dir string, l jsonout.Layout) (string, string) {
			return filepath.Join(dir, "x.img"), filepath.Join(dir, "y.img")
		}, nil, exitUsage, "do not exist"},
		{"bad --force", func(t *testing.T, dir string, l jsonout.Layout) (string, string) {
			return filepath.Join(dir, "a.img"), filepath.Join(dir, "b.img")
		}, []string{"--force", "nope"}, exitUsage, "nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, chips := pairFiles(t)
			l := syncJSON(t, chips...).Layout
			primary, backup := tc.setup(t, dir, l)
			files := map[string][]byte{}
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			for _, e := range entries {
				files[e.Name()] = readFile(t, filepath.Join(dir, e.Name()))
			}
			args := append([]string{"reseed", "--primary", spec(primary), "--backup", spec(backup)}, tc.extra...)
			_, _, err = runCLI(args...)
			require.Equal(t, tc.code, statusOf(err), "%v", err)
			require.ErrorContains(t, err, tc.want)
			entries, err = os.ReadDir(dir)
			require.NoError(t, err)
			require.Len(t, entries, len(files), "a file was created")
			for _, e := range entries {
				require.Equal(t, files[e.Name()], readFile(t, filepath.Join(dir, e.Name())), "%s written", e.Name())
			}
		})
	}
}

// TestReseedForce: --force naming the standby erases the data its store
// range held and reseeds it.
func TestReseedForce(t *testing.T) {
	dir, chips := pairFiles(t)
	l := syncJSON(t, chips...).Layout
	p := filepath.Join(dir, "b.img")
	blankFile(t, p)
	img := readFile(t, p)
	copy(img[l.Store.Offset+5*4096:], "someone's data")
	require.NoError(t, os.WriteFile(p, img, 0o600))
	out, errOut, err := runCLI(append([]string{"reseed", "--json", "--force", "backup"}, chips...)...)
	require.NoError(t, err, errOut)
	var r reseedResult
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	require.True(t, r.Erased)
	require.Contains(t, r.Was, "not a cmcsync store's")
	require.Equal(t, 0, syncJSON(t, chips...).Status.ActiveChip)
}
