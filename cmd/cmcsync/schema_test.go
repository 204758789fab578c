package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/internal/jsonout"
	"github.com/cmcsync/cmcsync/internal/jsonschema"
	"github.com/cmcsync/cmcsync/qemu/assets"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/web"
)

// compileSchema compiles docs/schema/NAME.json.
func compileSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	s, err := jsonschema.CompileFile(filepath.Join("..", "..", "docs", "schema", name+".json"))
	require.NoError(t, err)
	return s
}

// requireSchema checks a --json output against its documented schema,
// docs/schema/NAME.json.
func requireSchema(t *testing.T, name, out string) {
	t.Helper()
	require.NoError(t, compileSchema(t, name).Validate([]byte(out)), "%s output:\n%s", name, out)
}

// wrongOutput is a real output made wrong: at the member path (keys and
// array indices joined by "/"), rename the member to rename, or, when
// rename is "", replace its value by value.
func wrongOutput(t *testing.T, out, path, rename string, value any) []byte {
	t.Helper()
	var doc any
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	parts := strings.Split(path, "/")
	at := doc
	for _, p := range parts[:len(parts)-1] {
		switch x := at.(type) {
		case map[string]any:
			at = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			require.NoError(t, err, path)
			at = x[i]
		}
	}
	last := parts[len(parts)-1]
	switch x := at.(type) {
	case map[string]any:
		v, ok := x[last]
		require.True(t, ok, "%s: no such member in %s", path, out)
		if rename != "" {
			delete(x, last)
			x[rename] = v
		} else {
			x[last] = value
		}
	case []any:
		i, err := strconv.Atoi(last)
		require.NoError(t, err, path)
		x[i] = value
	default:
		t.Fatalf("%s: not in %s", path, out)
	}
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	return b
}

// requireRefused checks that the schema NAME refuses a real output made
// wrong at path (see wrongOutput).
func requireRefused(t *testing.T, name, out, path, rename string, value any) {
	t.Helper()
	bad := wrongOutput(t, out, path, rename, value)
	require.ErrorIs(t, compileSchema(t, name).Validate(bad), jsonschema.ErrInvalid, "%s: %s made wrong: %s", name, path, bad)
}

// TestOutputsMatchTheirSchemas: every --json output of the commands on a
// pair, from real runs, against docs/schema; and each schema refuses its
// output made wrong (a member renamed as a Go field or an old name, or a
// value of another type).
func TestOutputsMatchTheirSchemas(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.img"), filepath.Join(dir, "b.img")
	chips := []string{"--primary", testChipSpec + a, "--backup", testChipSpec + b}
	cli := func(args ...string) string {
		t.Helper()
		out, errOut, err := runCLI(args...)
		require.NoError(t, err, "%v: %s", args, errOut)
		return out
	}
	onPair := func(args ...string) string {
		t.Helper()
		return cli(append(args, chips...)...)
	}

	// sync --populate: the first round reads every type whole (nothing
	// committed to compare the change tables with), and says so.
	out := onPair("sync", "--populate", "--json")
	requireSchema(t, "sync", out)
	require.Contains(t, out, `"read_whole"`)
	requireRefused(t, "sync", out, "round/duration_seconds", "duration", nil)
	requireRefused(t, "sync", out, "status/counters/rounds", "", "1")
	requireRefused(t, "sync", out, "events/0/time", "Time", nil)

	// sync --select: select_stored.
	out = onPair("sync", "--select", "power,fan", "--json")
	requireSchema(t, "sync", out)
	require.Contains(t, out, `"select_stored"`)
	requireRefused(t, "sync", out, "select_stored/was", "", "power")

	for _, tc := range []struct {
		schema string
		args   []string
	}{
		{"version", []string{"version", "--json"}},
		{"config", append([]string{"config", "get", "--json"}, chips...)},
		{"config", append([]string{"config", "set", "--interval", "45s", "--json"}, chips...)},
		{"info-put", append([]string{"info", "put", "event-log", selFile(t, dir, 2), "--json"}, chips...)},
		{"info-get", append([]string{"info", "get", "event-log", "--json"}, chips...)},
		{"info-get", append([]string{"info", "get", "asset", "--json"}, chips...)},
		{"inspect", []string{"inspect", "--json", "--flash", chips[1]}},
		{"inspect", []string{"inspect", "--json", "--flash", chips[3]}},
	} {
		requireSchema(t, tc.schema, cli(tc.args...))
	}
	// A schema catches a wrong output: a Go field name.
	require.ErrorIs(t, compileSchema(t, "version").Validate([]byte(`{"Module": "x", "version": "v", "modified": false, "go_version": "go", "os": "linux", "arch": "arm"}`)), jsonschema.ErrInvalid)

	out = onPair("info", "get", "event-log", "--json")
	requireRefused(t, "info-get", out, "updated", "Updated", nil)
	requireRefused(t, "info-get", out, "crc", "", "5c0ffee")

	out = cli("inspect", "--json", "--flash", chips[3])
	requireRefused(t, "inspect", out, "store/superblock/pair_id", "PairID", nil)
	requireRefused(t, "inspect", out, "store/superblock/pair_id", "", int64(1796606520342436801)) // jq reads 1796606520342436900
	requireRefused(t, "inspect", out, "store/journal/log/0/seq", "", -1)
	requireRefused(t, "inspect", out, "store/config/interval_seconds", "interval", nil)

	// info collect: an array of info put's objects; [] from a folder
	// with nothing to collect (it printed null).
	cd := filepath.Join(dir, "collect")
	require.NoError(t, os.MkdirAll(cd, 0o700))
	require.JSONEq(t, `[]`, onPair("info", "collect", "--dir", cd, "--json"))
	sel, err := os.ReadFile(selFile(t, dir, 3))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(cd, "event-log.sel"), sel, 0o600))
	out = onPair("info", "collect", "--dir", cd, "--json")
	var puts []json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(out), &puts), out)
	require.Len(t, puts, 1)
	for _, p := range puts {
		requireSchema(t, "info-put", string(p))
	}
	requireRefused(t, "info-put", string(puts[0]), "changed", "", "yes")

	// upgrade keep, after the primary's image was upgraded.
	p, err := sim.LookupPart("mx66l1g45g")
	require.NoError(t, err)
	f, err := sim.OpenFile(a, sim.Options{Part: p, Size: 8 << 20})
	require.NoError(t, err)
	h, err := info.ReadImageHeader(f)
	require.NoError(t, err)
	h.Version, h.Built = "2.0.0", time.Unix(1.8e9, 0)
	require.NoError(t, info.WriteImage(f, h, 9))
	require.NoError(t, f.Close())
	out = onPair("upgrade", "keep", "--json")
	requireSchema(t, "upgrade", out)
	requireRefused(t, "upgrade", out, "choice", "", "keep")
	requireRefused(t, "upgrade", out, "status/last_sync", "LastSync", nil)

	// reseed of a backup replaced by a blank chip.
	blankFile(t, b)
	out = onPair("reseed", "--json")
	requireSchema(t, "reseed", out)
	requireRefused(t, "reseed", out, "pair_id", "", 12345)
	requireRefused(t, "reseed", out, "round/wait_response_seconds", "wait_response", nil)
	// The pair id reads the same in reseed and inspect: a hex string.
	var rs struct {
		PairID string `json:"pair_id"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rs))
	var in struct {
		Store struct {
			Superblock struct {
				PairID any `json:"pair_id"`
			} `json:"superblock"`
		} `json:"store"`
	}
	// (The replaced chip has no image or information region yet: inspect
	// prints them as damage and exits 1.)
	insp, _, err := runCLI("inspect", "--json", "--flash", chips[3])
	require.Equal(t, exitFailure, statusOf(err), "%v", err)
	requireSchema(t, "inspect", insp)
	require.NoError(t, json.Unmarshal([]byte(insp), &in))
	require.Equal(t, rs.PairID, in.Store.Superblock.PairID)
}

// TestReportsMatchTheirSchemas: the verification commands' --json
// reports (tiny runs) against docs/schema, and each schema refusing its
// report made wrong.
func TestReportsMatchTheirSchemas(t *testing.T) {
	dir := t.TempDir()
	// Two shards of a tiny random campaign, and their merge.
	var shards []string
	for _, sh := range []string{"0/2", "1/2"} {
		out, _, err := runCmd("campaign", "--scenario", "small", "--mode", "random", "--count", "4", "--workers", "1", "--shard", sh, "--json")
		require.NoError(t, err, out)
		requireSchema(t, "campaign-report", out)
		p := filepath.Join(dir, strings.ReplaceAll(sh, "/", "-")+".json")
		require.NoError(t, os.WriteFile(p, []byte(out), 0o600))
		shards = append(shards, p)
	}
	out, _, err := runCmd("campaign", append([]string{"merge", "--json"}, shards...)...)
	require.NoError(t, err, out)
	requireSchema(t, "campaign-report", out)
	requireRefused(t, "campaign-report", out, "violations_total", "ViolationsTotal", nil)
	requireRefused(t, "campaign-report", out, "wall_seconds", "", "0.4s")

	// A replay whose primary stops answering: a failover, the oracle's
	// slowest answer.
	out, _, err = runCmd("campaign", "--json", "--replay", "small seed=1 mutant=none | (on (and primary read (after 30)) (fail timeout)) (on (at 99999) cut) | none")
	require.NoError(t, err, out)
	requireSchema(t, "campaign-replay", out)
	require.Contains(t, out, `"slowest_answer"`)
	requireRefused(t, "campaign-replay", out, "round/duration_seconds", "duration", nil)
	requireRefused(t, "campaign-replay", out, "round/wait_response_seconds", "", "2s")

	out, _, err = runCmd("campaign", "--self-test", "--scenario", "small", "--json")
	require.NoError(t, err, out)
	requireSchema(t, "campaign-selftest", out)
	requireRefused(t, "campaign-selftest", out, "0/ok", "", "yes")

	out, _, err = runCmd("bench", append(small, "--strategies", "engine", "--out", "", "--json")...)
	require.NoError(t, err, out)
	requireSchema(t, "bench-report", out)
	requireRefused(t, "bench-report", out, "rows/0/latency_seconds", "latency", nil)
	requireRefused(t, "bench-report", out, "targets/0/status", "", "ok")

	out, _, err = runCmd("bench", "--wear", "--wear-rounds", "2", "--json")
	require.NoError(t, err, out)
	requireSchema(t, "bench-wear", out)
	requireRefused(t, "bench-wear", out, "wear/simulated_seconds", "simulated", nil)
}

// TestDaemonCommandsMatchTheirSchemas: the commands that go through a
// running daemon's API (config, info put, upgrade) print their documented
// --json outputs.
func TestDaemonCommandsMatchTheirSchemas(t *testing.T) {
	r, cfg, _, _, state := startServeWithConfigFile(t)
	dir := filepath.Dir(cfg)
	token, err := os.ReadFile(filepath.Join(state, web.TokenFile))
	require.NoError(t, err)
	require.Equal(t, 200, r.call(t, "POST", "/api/simulate/upgrade", strings.TrimSpace(string(token)), "{}", nil))
	for _, tc := range []struct {
		schema string
		args   []string
	}{
		{"config", []string{"config", "get", "--json"}},
		{"config", []string{"config", "set", "--interval", "45s", "--json"}},
		{"info-put", []string{"info", "put", "event-log", selFile(t, dir, 3), "--json"}},
		{"upgrade-daemon", []string{"upgrade", "keep", "--json"}},
	} {
		out, errOut, err := runCLI(append(tc.args, "--config", cfg)...)
		require.NoError(t, err, "%v: %s", tc.args, errOut)
		require.Contains(t, errOut, "running daemon", "%v went through the API", tc.args)
		requireSchema(t, tc.schema, out)
		if tc.schema == "upgrade-daemon" {
			requireRefused(t, tc.schema, out, "generation", "", "2")
			requireRefused(t, tc.schema, out, "choice", "Choice", nil)
		}
	}
}

// TestVMBuildOutputMatchesItsSchema: vm build --json's object, encoded as
// the command writes it (a build fetches and cross-compiles: too slow for
// a unit test), against docs/schema/vm-build.json.
func TestVMBuildOutputMatchesItsSchema(t *testing.T) {
	m := &assets.Manifest{Variant: "arm", KernelRelease: "6.1.0-arm64", Kernel: "vmlinuz", DTB: "virt.dtb", Busybox: "busybox",
		Packages: []assets.Package{{Name: "linux-image", Arch: "arm64", Version: "6.1", File: "l.deb", SHA256: "ab"}},
		Modules:  []assets.Module{{Name: "mtdram", Path: "m/mtdram.ko", Depends: []string{"mtd"}}},
		Fetched:  time.Unix(1.8e9, 0).UTC(), Dir: "/cache/arm"}
	b, err := json.Marshal(vmBuildResult{m, "/cache/arm/initrd.gz", m.Dir})
	require.NoError(t, err)
	requireSchema(t, "vm-build", string(b))
	requireRefused(t, "vm-build", string(b), "manifest/kernel_release", "KernelRelease", nil)
	requireRefused(t, "vm-build", string(b), "manifest/packages/0/sha256", "", 12)
}

// TestEverySchemaIsDocumented: each file of docs/schema compiles (only
// the keywords internal/jsonschema checks) and is in docs/JSON.md's
// Schemas table, and each schema the table names exists.
func TestEverySchemaIsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "JSON.md"))
	require.NoError(t, err)
	files, err := filepath.Glob(filepath.Join("..", "..", "docs", "schema", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		compileSchema(t, name)
		require.Contains(t, string(doc), "| `"+name+".json` |", "docs/JSON.md does not list %s", f)
	}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z0-9-]+)\\.json` \\|").FindAllStringSubmatch(string(doc), -1) {
		require.FileExists(t, filepath.Join("..", "..", "docs", "schema", m[1]+".json"))
	}
}

// TestPartProfileMatchesItsSchema: the profiles calibrate writes (NOR and
// NAND, simulated chips) match docs/schema/part-profile.json, which
// refuses one made wrong and a cmcsync-part-profile/1 file (microseconds
// in _us members, which sim.LoadProfile still reads).
func TestPartProfileMatchesItsSchema(t *testing.T) {
	for _, flash := range []string{"sim:part=mt25ql256,size=2M,timing=spread", "sim:part=mt29f2g01,size=16M,timing=spread"} {
		scratch := "1M+256K"
		if strings.Contains(flash, "mt29f2g01") {
			scratch = "8M+8M"
		}
		out, errOut, err := runCmd("calibrate", "--flash", flash, "--scratch", scratch, "--out", "-")
		require.NoError(t, err, errOut)
		requireSchema(t, "part-profile", out)
		require.Contains(t, out, `"format": "cmcsync-part-profile/2"`)
		require.Contains(t, out, `"median_seconds"`)
		requireRefused(t, "part-profile", out, "typical/page_program_seconds", "page_program_us", nil)
		requireRefused(t, "part-profile", out, "command_overhead_seconds", "", "1µs")
		requireRefused(t, "part-profile", out, "calibration/measurements/0/median_seconds", "", -1)
		requireRefused(t, "part-profile", out, "format", "", "cmcsync-part-profile/1")
	}
	v1, err := os.ReadFile(filepath.Join("..", "..", "sim", "testdata", "profile-v1.json"))
	require.NoError(t, err)
	require.Error(t, compileSchema(t, "part-profile").Validate(v1), "a /1 file is not a /2 one")
	_, err = sim.DecodeProfile(strings.NewReader(string(v1)))
	require.NoError(t, err, "sim.LoadProfile reads it")
}

// TestEventJSONSameInCLIAndAPI: an event has the same members in the
// commands' --json (jsonout.Event) and the API (web.Event), generation
// included when it is 0, and sync --json's events pass the API's
// docs/schema/event.json.
func TestEventJSONSameInCLIAndAPI(t *testing.T) {
	members := func(v any) []string {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return ks
	}
	require.Equal(t, []string{"detail", "generation", "kind", "time"}, members(jsonout.Event{}))
	require.Equal(t, members(jsonout.Event{}), members(web.Event{}), "the API event's members")

	dir := t.TempDir()
	out, errOut, err := runCLI("sync", "--populate", "--json", "--primary", testChipSpec+filepath.Join(dir, "a.img"),
		"--backup", testChipSpec+filepath.Join(dir, "b.img"))
	require.NoError(t, err, errOut)
	var res struct{ Events []json.RawMessage }
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	require.NotEmpty(t, res.Events)
	sc := compileSchema(t, "event")
	for _, ev := range res.Events {
		require.NoError(t, sc.Validate(ev), "%s", ev)
	}
}
