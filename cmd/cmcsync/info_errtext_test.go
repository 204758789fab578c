package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/source/collect"
)

// TestInfoInputErrorsReadOnce: the refusals of info put and info collect
// name the input's fault once ("bad input"), not once per layer ("bad
// input: bad information input: empty information input: ..."), and keep
// their sentinels (errBadInput, collect.ErrInput, collect.ErrEmpty) and
// exit status 2. The text of info put on an empty file is pinned.
func TestInfoInputErrorsReadOnce(t *testing.T) {
	dir, chips := pairFiles(t)
	empty := filepath.Join(dir, "nothing.sel")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	garbage := filepath.Join(dir, "garbage.sel")
	require.NoError(t, os.WriteFile(garbage, []byte("not a sel file\n"), 0o600))
	folder := filepath.Join(dir, "collect")
	require.NoError(t, os.Mkdir(folder, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(folder, "event-log.sel"), nil, 0o600))
	fanFolder := filepath.Join(dir, "fans")
	require.NoError(t, os.MkdirAll(filepath.Join(fanFolder, "fan"), 0o700))

	pinned := "info put: " + empty + ": bad input: event-log: the input is empty (0 bytes), as an export that failed leaves it; " +
		"it would clear the event log (--allow-empty clears the event log on purpose)"
	for _, tc := range []struct {
		name  string
		args  []string
		empty bool // wraps collect.ErrEmpty
		exact string
	}{
		{"put, 0 bytes", []string{"info", "put", "event-log", empty}, true, pinned},
		{"put, fan, 0 bytes", []string{"info", "put", "fan", empty}, true, ""},
		{"put, not a SEL file", []string{"info", "put", "event-log", garbage}, false, ""},
		{"collect, an empty event log", []string{"info", "collect", "--dir", folder}, true, ""},
		{"collect, a folder for fan", []string{"info", "collect", "--dir", fanFolder}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCLI(append(tc.args, chips...)...)
			require.Error(t, err)
			msg := err.Error()
			if tc.exact != "" {
				require.Equal(t, tc.exact, msg)
			}
			require.Equal(t, 2, statusOf(err), "%v", err)
			require.ErrorIs(t, err, errBadInput)
			require.ErrorIs(t, err, collect.ErrInput)
			if tc.empty {
				require.ErrorIs(t, err, collect.ErrEmpty)
			}
			require.LessOrEqual(t, strings.Count(msg, "bad input"), 1, "the fault named once: %s", msg)
			require.NotContains(t, msg, "information input", "the sentinels' words are not repeated: %s", msg)
		})
	}
}
