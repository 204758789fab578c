package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/config"
)

// TestConfigFile: sync and serve read their chips and settings from
// --config; flags override it; a bad file exits 2 naming file:line:key.
func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	spec := func(n string) string { return testChipSpec + filepath.Join(dir, n) }
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
		return p
	}
	good := write("good.json", fmt.Sprintf(`{
  "chips": {
    "primary": {"device": %q, "info": {"size": "1M"}},
    "backup":  {"device": %q, "info": {"size": "1M"}}
  },
  "select": "power,fan",
  "seed": 3
}`, spec("a.img"), spec("b.img")))
	res := syncJSON(t, "--config", good, "--populate")
	require.True(t, res.Formatted)
	require.Equal(t, int64(1<<20), res.Layout.Info.Size, "the file's layout")
	require.Equal(t, []string{"power", "fan"}, res.Round.Types, "the file's --select")

	// Flags override the file: the chips named on the command line are new.
	res = syncJSON(t, "--config", good, "--primary", spec("c.img"), "--backup", spec("d.img"), "--populate", "--select", "all")
	require.True(t, res.Formatted)
	require.Len(t, res.Round.Types, 6)
	require.Equal(t, int64(1<<20), res.Layout.Info.Size)

	for _, tc := range []struct {
		name, text, want string
	}{
		{"unknown key", "{\n  \"chips\": {},\n  \"intervall\": \"5m\"\n}", "bad.json:3: intervall: unknown key"},
		{"duplicate key", "{\"seed\": 1,\n\"seed\": 1}", "bad.json:2: key \"seed\" given twice"},
		{"bad value", "{\"chips\": {\"primary\": {\n\"device\": \"flash0\"}}}", "bad.json:2: chips.primary.device: flash spec \"flash0\""},
		{"bad JSON", "{\"seed\": }", "bad.json:1: JSON syntax"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := write("bad.json", tc.text)
			for _, cmd := range []string{"sync", "serve"} {
				_, _, err := runCLI(cmd, "--config", bad)
				require.Equal(t, 2, statusOf(err), "%s: %v", cmd, err)
				require.ErrorContains(t, err, tc.want)
			}
		})
	}
	// A file the command line names that is not there is a bad command
	// line (docs/CLI.md, status 2), not a failure.
	_, _, err := runCLI("sync", "--config", filepath.Join(dir, "missing.json"))
	require.Equal(t, 2, statusOf(err))
	require.ErrorContains(t, err, "missing.json: no such file")
}

// TestServeConfigFile: serve takes its state folder and settings from the
// file.
func TestServeConfigFile(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	p := filepath.Join(dir, "cmcsync.json")
	require.NoError(t, os.WriteFile(p, []byte(fmt.Sprintf(`{"state_dir": %q, "cmc_step": "0s", "scrub_every": "1h"}`, state)), 0o600))
	r := startServe(t, "--config", p)
	require.Contains(t, r.stdout.String(), "state folder "+state)
	require.FileExists(t, filepath.Join(state, "chip0.img"))
}

var flagLine = regexp.MustCompile(`(?m)^  -([a-z][a-z0-9-]*)`)

// TestEveryFlagHasAKey: each flag of serve and sync has a key in the
// configuration file, except the one-shot and output flags.
func TestEveryFlagHasAKey(t *testing.T) {
	noKey := []string{"config", "format", "force", "populate", "json"}
	keyed := map[string]bool{}
	for _, f := range config.Keys() {
		keyed[f] = true
	}
	for _, cmd := range []string{"serve", "sync"} {
		_, errOut, err := runCLI(cmd, "-h")
		require.NoError(t, err)
		flags := flagLine.FindAllStringSubmatch(errOut, -1)
		require.NotEmpty(t, flags)
		for _, m := range flags {
			if slices.Contains(noKey, m[1]) {
				require.False(t, keyed[m[1]], "%s has a key but must not", m[1])
				continue
			}
			require.True(t, keyed[m[1]], "%s --%s has no configuration key", cmd, m[1])
		}
	}
}
