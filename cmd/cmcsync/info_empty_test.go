package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestInfoEmptyInput: an empty input (0 bytes, or a SEL file without a
// record), as an export that failed upstream leaves it, is refused by
// info put and info collect for every type, exit 2, and no byte of either
// image file changes; --allow-empty lets an empty SEL file clear the event
// log, and no other type.
func TestInfoEmptyInput(t *testing.T) {
	dir, chips := pairFiles(t)
	_, _, err := runCLI(append([]string{"info", "put", "event-log", selFile(t, dir, 4)}, chips...)...)
	require.NoError(t, err)
	_, _, err = runCLI(append([]string{"sync"}, chips...)...)
	require.NoError(t, err)
	empty := filepath.Join(dir, "empty.sel")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	blank := filepath.Join(dir, "blank.txt")
	require.NoError(t, os.WriteFile(blank, []byte("# sel export\n\n"), 0o600))
	folder := filepath.Join(dir, "collect")
	require.NoError(t, os.Mkdir(folder, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(folder, "event-log.sel"), nil, 0o600))
	power := filepath.Join(t.TempDir(), "power")
	require.NoError(t, os.WriteFile(power, nil, 0o600))

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"event-log, 0 bytes", []string{"info", "put", "event-log", empty}, "event-log: the input is empty (0 bytes), as an export that failed leaves it; it would clear the event log"},
		{"event-log, comments only", []string{"info", "put", "event-log", blank}, "the input holds no SEL record (14 bytes of blank lines and comments)"},
		{"asset, 0 bytes", []string{"info", "put", "asset", empty, "--slot", "3"}, "asset: the input is empty (0 bytes)"},
		{"asset, 0 bytes, --allow-empty", []string{"info", "put", "asset", empty, "--allow-empty"}, "an empty input clears only the event log"},
		{"power, 0 bytes, --allow-empty", []string{"info", "put", "power", empty, "--allow-empty"}, "power takes a payload in the region's table format"},
		{"fan, 0 bytes", []string{"info", "put", "fan", empty}, "fan: the input is empty (0 bytes)"},
		{"collect, an empty event log", []string{"info", "collect", "--dir", folder}, "bad input: " + filepath.Join(folder, "event-log.sel") + ": event-log: the input is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := loadFiles(t, dir, "a.img", "b.img")
			_, _, err := runCLI(append(tc.args, chips...)...)
			require.Equal(t, 2, statusOf(err), "%v", err)
			require.ErrorContains(t, err, tc.want)
			if tc.args[2] == "event-log" || tc.args[1] == "collect" {
				require.ErrorContains(t, err, "--allow-empty clears the event log on purpose")
				require.Equal(t, 1, strings.Count(err.Error(), "on purpose"), "one hint, not two: %v", err)
			}
			require.Equal(t, before, loadFiles(t, dir, "a.img", "b.img"), "no byte of the images changed")
		})
	}

	// --allow-empty: the log is cleared, on put and on collect.
	for _, args := range [][]string{
		{"info", "put", "event-log", empty, "--allow-empty"},
		{"info", "put", "event-log", selFile(t, dir, 4)},
		{"info", "put", "event-log", blank, "--allow-empty"},
		{"info", "put", "event-log", selFile(t, dir, 4)},
		{"info", "collect", "--dir", folder, "--allow-empty"},
	} {
		_, _, err := runCLI(append(args, chips...)...)
		require.NoError(t, err, "%v", args)
		if args[len(args)-1] != "--allow-empty" {
			continue
		}
		out, _, err := runCLI(append([]string{"info", "get", "event-log", "--json"}, chips...)...)
		require.NoError(t, err)
		var res infoGetResult
		require.NoError(t, json.Unmarshal([]byte(out), &res))
		require.Zero(t, res.Entries, "%v: the log is cleared", args)
	}
}
