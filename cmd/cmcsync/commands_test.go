package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/internal/jsonout"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/source/ipmi/sel"
	"github.com/cmcsync/cmcsync/sync/info"
)

func TestVersion(t *testing.T) {
	for _, tc := range []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"release", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/cmcsync/cmcsync", Version: "v1.2.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm"}}},
			"cmcsync v1.2.0 revision abc123 of 2026-12-01T10:00:00Z, go1.26.0 linux/arm"},
		{"modified checkout", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}}},
			"cmcsync (devel) revision abc123 (modified)"},
		{"no VCS", &debug.BuildInfo{GoVersion: "go1.26.0"}, "cmcsync (devel) (no VCS revision"},
	} {
		v := buildInfo(func() (*debug.BuildInfo, bool) { return tc.bi, true })
		require.Contains(t, v.String(), tc.want, tc.name)
	}
	require.Equal(t, "unknown", buildInfo(func() (*debug.BuildInfo, bool) { return nil, false }).Version)

	out, _, err := runCLI("version", "--json")
	require.NoError(t, err)
	require.NoError(t, jsonout.Check([]byte(out)))
	var v versionInfo
	require.NoError(t, json.Unmarshal([]byte(out), &v))
	require.Equal(t, "github.com/cmcsync/cmcsync", v.Module)
}

func TestHelpCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"help"}, 0, "commands:"},
		{[]string{"help", "sync"}, 0, "usage: cmcsync sync"},
		{[]string{"help", "info", "put"}, 0, "usage: cmcsync info put TYPE FILE"},
		{[]string{"help", "upgrade"}, 0, "usage: cmcsync upgrade {keep|restore}"},
		{[]string{"help", "nope"}, 2, ""},
		// Every subcommand's help, vm scenario's too (it asked for a
		// scenario name and exited 2).
		{[]string{"help", "vm", "scenario"}, 0, "-cycles"},
		{[]string{"help", "config", "set"}, 0, "-threshold"},
		{[]string{"help", "campaign", "merge"}, 0, "usage: cmcsync campaign merge"},
		// campaign's help says what it does, not only its flags.
		{[]string{"help", "campaign"}, 0, "Runs a scenario's sync round under injected faults"},
	} {
		out, _, err := runCLI(tc.args...)
		require.Equal(t, tc.code, statusOf(err), "%v: %v", tc.args, err)
		require.Contains(t, out, tc.want, "%v", tc.args)
	}
}

// pairFiles populates a pair of image files and returns the chip flags.
func pairFiles(t *testing.T) (dir string, flags []string) {
	dir = t.TempDir()
	flags = pairArgs(dir)
	syncJSON(t, append(flags, "--populate")...)
	return dir, flags
}

func selFile(t *testing.T, dir string, n int) string {
	var b []byte
	for i := range n {
		r := sel.NewSystemEvent(uint16(i+1), 1700000000+uint32(i), sel.SystemEvent{GeneratorID: 0x20, EvMRev: 4, SensorType: 1, SensorNumber: 3, EventDirType: 1, EventData: [3]byte{0x57, 0xff, 0xff}})
		b = append(b, r[:]...)
	}
	p := filepath.Join(dir, "sel.raw")
	require.NoError(t, os.WriteFile(p, b, 0o600))
	return p
}

func TestInfoCommands(t *testing.T) {
	dir, chips := pairFiles(t)
	sf := selFile(t, dir, 4)
	bad := filepath.Join(dir, "bad.raw")
	require.NoError(t, os.WriteFile(bad, []byte("0123456789abcde"), 0o600)) // 15 bytes
	getSeq := func() uint64 {
		out, _, err := runCLI(append([]string{"info", "get", "event-log", "--json"}, chips...)...)
		require.NoError(t, err)
		require.NoError(t, jsonout.Check([]byte(out)))
		var g infoGetResult
		require.NoError(t, json.Unmarshal([]byte(out), &g))
		return g.Seq
	}
	seq0 := getSeq()
	for _, tc := range []struct {
		name    string
		args    []string
		code    int
		want    string
		seqDiff uint64
	}{
		{"put a SEL file", []string{"info", "put", "event-log", sf}, 0, "event-log: written from", 1},
		{"put it again", []string{"info", "put", "sel", sf}, 0, "unchanged (nothing written)", 0},
		{"put a bad file", []string{"info", "put", "event-log", bad}, 2, "", 0},
		{"put an unknown type", []string{"info", "put", "psu", sf}, 2, "", 0},
		{"put without a file", []string{"info", "put", "event-log"}, 2, "", 0},
		{"put a missing file", []string{"info", "put", "event-log", filepath.Join(dir, "nope")}, 2, "", 0},
		{"collect a missing folder", []string{"info", "collect", "--dir", filepath.Join(dir, "nope")}, 2, "", 0},
		{"collect a file as the folder", []string{"info", "collect", "--dir", sf}, 2, "", 0},
		{"flags before the subcommand", []string{"info", "--json", "get", "event-log"}, 2, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := getSeq()
			out, _, err := runCLI(append(tc.args, chips...)...)
			require.Equal(t, tc.code, statusOf(err), "%v", err)
			require.Contains(t, out, tc.want)
			require.Equal(t, before+tc.seqDiff, getSeq())
		})
	}
	require.Equal(t, seq0+1, getSeq())

	// get writes the payload put took; a sync carries it to the backup.
	out, _, err := runCLI(append([]string{"info", "get", "event-log"}, chips...)...)
	require.NoError(t, err)
	tb, err := info.DecodeTable(info.EventLog, []byte(out))
	require.NoError(t, err)
	require.Equal(t, uint32(4), tb.Count)
	res := syncJSON(t, chips...)
	require.Equal(t, []string{"event-log"}, res.Round.ChangedTypes)

	// collect: a folder of files.
	cd := filepath.Join(dir, "collect")
	require.NoError(t, os.Mkdir(cd, 0o700))
	raw, err := os.ReadFile(selFile(t, dir, 6))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(cd, "event-log.sel"), raw, 0o600))
	// A misnamed file is named on standard error, not passed over in silence.
	require.NoError(t, os.WriteFile(filepath.Join(cd, "powr.bin"), []byte("x"), 0o600))
	out, errOut, err := runCLI(append([]string{"info", "collect", "--dir", cd, "--json"}, chips...)...)
	require.NoError(t, err)
	require.NoError(t, jsonout.Check([]byte(out)))
	require.Contains(t, out, `"changed": true`)
	require.Contains(t, errOut, "info collect: note: ignored powr.bin in "+cd+": not named after an information type (power, fan, node, event-log, fault-log, asset, with any extension; asset/N.bin by slot)")
}

func TestUpgradeCommand(t *testing.T) {
	dir, chips := pairFiles(t)
	_, _, err := runCLI(append([]string{"upgrade", "keep"}, chips...)...)
	require.Equal(t, 3, statusOf(err), "refused, nothing done")
	require.ErrorContains(t, err, "no image upgrade is pending")

	// Upgrade the primary's image, as a firmware update would.
	p, err := sim.LookupPart("mx66l1g45g")
	require.NoError(t, err)
	f, err := sim.OpenFile(filepath.Join(dir, "a.img"), sim.Options{Part: p, Size: 8 << 20})
	require.NoError(t, err)
	h, err := info.ReadImageHeader(f)
	require.NoError(t, err)
	h.Version, h.Built = "2.0.0", time.Unix(1.8e9, 0)
	require.NoError(t, info.WriteImage(f, h, 9))
	require.NoError(t, f.Close())

	_, _, err = runCLI(append([]string{"sync"}, chips...)...)
	require.Equal(t, 3, statusOf(err), "refused: the round waits for a choice")
	require.ErrorContains(t, err, "cmcsync upgrade keep syncs")
	require.ErrorContains(t, err, "cmcsync upgrade restore REPLACES")
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"upgrade"}, 2},
		{[]string{"upgrade", "maybe"}, 2},
		{[]string{"upgrade", "keep", "--json"}, 0},
		{[]string{"upgrade", "keep"}, 3}, // chosen: nothing pending any more, refused
	} {
		out, _, err := runCLI(append(tc.args, chips...)...)
		require.Equal(t, tc.code, statusOf(err), "%v: %v", tc.args, err)
		if tc.code == 0 {
			require.NoError(t, jsonout.Check([]byte(out)))
			var r upgradeResult
			require.NoError(t, json.Unmarshal([]byte(out), &r))
			require.Equal(t, "keep-upgraded", r.Choice)
			require.Equal(t, "2.0.0", r.Status.CommittedVersion)
		}
	}
	res := syncJSON(t, chips...)
	require.Equal(t, "nothing-changed", res.Round.Outcome)
}

func TestConfigCommand(t *testing.T) {
	_, chips := pairFiles(t)
	get := func() jsonout.Config {
		out, _, err := runCLI(append([]string{"config", "get", "--json"}, chips...)...)
		require.NoError(t, err)
		require.NoError(t, jsonout.Check([]byte(out)))
		var c jsonout.Config
		require.NoError(t, json.Unmarshal([]byte(out), &c))
		return c
	}
	c0 := get()
	require.Equal(t, 300.0, c0.IntervalSeconds)
	for _, tc := range []struct {
		name  string
		args  []string
		code  int
		check func(c jsonout.Config)
	}{
		{"interval and types", []string{"--interval", "1m", "--types", "power,fan"}, 0, func(c jsonout.Config) {
			require.Equal(t, 60.0, c.IntervalSeconds)
			require.Equal(t, []string{"power", "fan"}, c.Types)
			require.Equal(t, c0.ThresholdSeconds, c.ThresholdSeconds, "kept")
		}},
		{"verify and group", []string{"--verify", "--group-size", "1"}, 0, func(c jsonout.Config) {
			require.True(t, c.Verify)
			require.Equal(t, 1, c.GroupSize)
			require.Equal(t, 60.0, c.IntervalSeconds, "kept from before")
		}},
		{"threshold out of range", []string{"--threshold", "2h"}, 2, nil},
		// Inside the engine's limits but outside the API's (docs/API.md,
		// Config): the page could not send it back.
		{"threshold the API refuses", []string{"--threshold", "1h"}, 2, nil},
		{"interval the API refuses", []string{"--interval", "200ms"}, 2, nil},
		{"group larger than the types", []string{"--group-size", "3"}, 2, nil},
		{"nothing to set", nil, 2, nil},
		{"unknown type", []string{"--types", "psu"}, 2, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := get()
			_, _, err := runCLI(append(append([]string{"config", "set"}, tc.args...), chips...)...)
			require.Equal(t, tc.code, statusOf(err), "%v", err)
			if tc.check == nil {
				require.Equal(t, before, get(), "unchanged")
				return
			}
			tc.check(get()) // read back by a new process: stored
		})
	}
	// A sync round keeps it and commits it.
	res := syncJSON(t, chips...)
	require.Equal(t, []string{"power"}, res.Round.Types, "group of 1, first type")
	require.Equal(t, 60.0, res.Status.Config.IntervalSeconds)
}

// TestSyncSelectSaysItStores: --select changes the stored configuration
// and says so; later rounds keep it.
func TestSyncSelectSaysItStores(t *testing.T) {
	_, chips := pairFiles(t)
	out, _, err := runCLI(append([]string{"sync", "--select", "power"}, chips...)...)
	require.NoError(t, err)
	require.Contains(t, out, "stored configuration changed by --select: types power (were all); later rounds keep it")
	res := syncJSON(t, chips...)
	require.Equal(t, []string{"power"}, res.Round.Types)
	require.Nil(t, res.Selected)
	out, _, err = runCLI(append([]string{"sync", "--select", "power"}, chips...)...)
	require.NoError(t, err)
	require.NotContains(t, out, "stored configuration changed", "the same selection changes nothing")
}

// TestPlacesOnEveryCommand: the commands on a pair take the places as
// serve does (--info, --store, --image-id; docs/LAYOUT.md, Places) and
// resolve them the same way: a pair populated with named places is read
// and written by info, synced by sync and inspected with them, refused
// (never reformatted) without them, and the two forms together are a
// usage error.
func TestPlacesOnEveryCommand(t *testing.T) {
	dir := t.TempDir()
	chips := pairArgs(dir)
	places := []string{"--info", "2M+1M", "--store", "3M+5M", "--image-id", "sha256:0+64K"}
	with := func(args ...string) []string { return append(append(args, chips...), places...) }
	res := syncJSON(t, append(with(), "--populate")...)
	require.Equal(t, int64(2<<20), res.Layout.Info.Offset)
	require.Equal(t, int64(3<<20), res.Layout.Store.Offset)
	require.Zero(t, res.Layout.Image.Size, "named places: no image area")

	sf := selFile(t, dir, 3)
	out, _, err := runCLI(with("info", "put", "event-log", sf)...)
	require.NoError(t, err)
	require.Contains(t, out, "event-log: written from")
	res = syncJSON(t, with()...)
	require.Equal(t, []string{"event-log"}, res.Round.ChangedTypes)
	out, _, err = runCLI(with("info", "get", "event-log", "--json")...)
	require.NoError(t, err)
	require.Contains(t, out, `"entries": 3`)

	// Without the places the default layout finds no store there: refused,
	// and the pair is still intact with them.
	_, _, err = runCLI(append([]string{"info", "get", "event-log"}, chips...)...)
	require.Error(t, err)
	_, _, err = runCLI(with("info", "get", "event-log")...)
	require.NoError(t, err)

	for _, bad := range [][]string{
		{"--info", "2M+1M", "--info-size", "1M"},
		{"--info", "2M+1M"},
	} {
		_, _, err := runCLI(append(append([]string{"info", "get", "power"}, chips...), bad...)...)
		require.Equal(t, exitUsage, statusOf(err), "%v: %v", bad, err)
		require.ErrorContains(t, err, "give ")
	}
}
