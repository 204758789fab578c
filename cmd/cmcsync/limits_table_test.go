package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/config"
	"github.com/cmcsync/cmcsync/internal/jsonout"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/web"
)

// TestLimitsAlikeOnEveryPath: every limit the API enforces is enforced
// alike by the command line's flags and the configuration file, by one
// check (web.Config.Validate, web.CheckTypes through config.ParseTypes,
// web.CheckConnLimits): for each field a value below the minimum, at the
// minimum, at the maximum and above it is refused (exit 2, naming the
// field and the limits) or accepted on every path the field has — the
// API's own check, config set's flag, sync --select, the file's select
// key, serve's flags and the file's max_conns keys. (The daemon's
// Daemon.SetConfig uses the same check: daemon.TestBackendConfig.)
func TestLimitsAlikeOnEveryPath(t *testing.T) {
	_, chips := pairFiles(t)
	dir := t.TempDir()
	base := engine.Config{Types: info.All(), Interval: 5 * time.Minute, Threshold: 2 * time.Second}
	known := jsonout.Types(info.All())
	write := func(text string) string {
		p := filepath.Join(dir, fmt.Sprintf("c%d.json", time.Now().UnixNano()))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
		return p
	}
	type verdict struct {
		ok   bool
		want string // in the refusal
	}
	check := func(t *testing.T, path string, err error, v verdict) {
		t.Helper()
		if v.ok {
			require.NoError(t, err, path)
			return
		}
		require.Equal(t, exitUsage, statusOf(err), "%s: %v", path, err)
		require.ErrorContains(t, err, v.want, path)
	}
	// listenBad makes an accepted serve stop at its next check, the listen
	// address, before anything is opened.
	serveAccepted := "want HOST:PORT"
	checkServe := func(t *testing.T, path string, err error, v verdict) {
		t.Helper()
		require.Equal(t, exitUsage, statusOf(err), "%s: %v", path, err)
		msg := err.Error()
		if v.ok {
			require.Contains(t, msg, serveAccepted, "%s: accepted, stopped at the listen address", path)
			return
		}
		require.Contains(t, msg, v.want, path)
		require.NotContains(t, msg, serveAccepted, path)
	}

	t.Run("sync configuration", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			flag []string
			set  func(*engine.Config)
			v    verdict
		}{
			{"interval below min", []string{"--interval", "999ms"}, func(c *engine.Config) { c.Interval = 999 * time.Millisecond }, verdict{false, "--interval: sync interval 999ms is out of range: choose between 1s and 24h (1 to 86400 seconds)"}},
			{"interval at min", []string{"--interval", "1s"}, func(c *engine.Config) { c.Interval = time.Second }, verdict{ok: true}},
			{"interval at max", []string{"--interval", "24h"}, func(c *engine.Config) { c.Interval = 24 * time.Hour }, verdict{ok: true}},
			{"interval above max", []string{"--interval", "24h0m1s"}, func(c *engine.Config) { c.Interval = 24*time.Hour + time.Second }, verdict{false, "--interval: sync interval 24h0m1s is out of range"}},
			{"threshold below min", []string{"--threshold", "9ms"}, func(c *engine.Config) { c.Threshold = 9 * time.Millisecond }, verdict{false, "--threshold: response-time threshold 9ms is out of range: choose between 10ms and 10m (0.01 to 600 seconds)"}},
			{"threshold at min", []string{"--threshold", "10ms"}, func(c *engine.Config) { c.Threshold = 10 * time.Millisecond }, verdict{ok: true}},
			{"threshold at max", []string{"--threshold", "10m"}, func(c *engine.Config) { c.Threshold = 10 * time.Minute }, verdict{ok: true}},
			{"threshold above max", []string{"--threshold", "10m0.001s"}, func(c *engine.Config) { c.Threshold = 10*time.Minute + time.Millisecond }, verdict{false, "--threshold: response-time threshold 10m0.001s is out of range"}},
			{"group size below min", []string{"--group-size", "-1"}, func(c *engine.Config) { c.GroupSize = -1 }, verdict{false, "--group-size: group size -1 is out of range: choose 0 (all chosen types every round) up to 6"}},
			{"group size at min", []string{"--group-size", "0"}, func(c *engine.Config) { c.GroupSize = 0 }, verdict{ok: true}},
			{"group size at max", []string{"--group-size", "6"}, func(c *engine.Config) { c.GroupSize = 6 }, verdict{ok: true}},
			{"group size above max", []string{"--group-size", "7"}, func(c *engine.Config) { c.GroupSize = 7 }, verdict{false, "--group-size: group size 7 is out of range"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := base.Clone()
				tc.set(&c)
				apiErr := toWebConfig(c).Validate(known)
				require.Equal(t, tc.v.ok, apiErr == nil, "the API's check: %v", apiErr)
				args := append([]string{"config", "set", "--types", "all", "--interval", "5m", "--threshold", "2s", "--group-size", "0"}, tc.flag...)
				_, _, err := runCLI(append(args, chips...)...)
				check(t, "config set "+strings.Join(tc.flag, " "), err, tc.v)
			})
		}
	})

	t.Run("types", func(t *testing.T) {
		for _, tc := range []struct {
			name, list string
			v          verdict
		}{
			{"none (below min)", " , ", verdict{false, "select at least one information type (known: power, fan, node, event-log, fault-log, asset)"}},
			{"one (min)", "power", verdict{ok: true}},
			{"all six (max)", "power,fan,node,event-log,fault-log,asset", verdict{ok: true}},
			{"a seventh: a duplicate (above max)", "power,fan,node,event-log,fault-log,asset,power", verdict{false, `information type "power" is listed twice`}},
			{"unknown", "power,fans", verdict{false, `unknown information type "fans"`}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var names []string
				for n := range strings.SplitSeq(tc.list, ",") {
					if n = strings.TrimSpace(n); n != "" {
						names = append(names, n)
					}
				}
				apiErr := web.CheckTypes(names, known)
				require.Equal(t, tc.v.ok, apiErr == nil, "the API's check: %v", apiErr)
				_, parseErr := config.ParseTypes(tc.list)
				require.Equal(t, tc.v.ok, parseErr == nil, "config.ParseTypes: %v", parseErr)

				_, _, err := runCLI(append([]string{"config", "set", "--group-size", "0", "--types", tc.list}, chips...)...)
				check(t, "config set --types", err, tc.v)
				_, _, err = runCLI(append([]string{"sync", "--select", tc.list}, chips...)...)
				check(t, "sync --select", err, tc.v)
				file := write(fmt.Sprintf(`{"chips": {"primary": {"device": %q}, "backup": {"device": %q}}, "select": %q}`, chips[1], chips[3], tc.list))
				_, _, err = runCLI("sync", "--config", file)
				check(t, "file select", err, tc.v)
			})
		}
	})

	t.Run("connections", func(t *testing.T) {
		for _, tc := range []struct {
			name              string
			maxConns, perConn int // perConn 0: not given
			v                 verdict
		}{
			{"max below min", 0, 1, verdict{false, "max connections 0 is out of range: give 1 to 4096"}},
			{"max at min", 1, 1, verdict{ok: true}},
			{"max at max", 4096, 16, verdict{ok: true}},
			{"max above max", 4097, 16, verdict{false, "max connections 4097 is out of range: give 1 to 4096"}},
			{"per client below min", 128, -1, verdict{false, "max connections per client -1 is out of range"}},
			{"per client at min", 128, 1, verdict{ok: true}},
			{"per client at max", 128, 128, verdict{ok: true}},
			{"per client above max", 128, 129, verdict{false, "max connections per client 129 is out of range: give 1 to the max connections, 128"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				apiErr := web.CheckConnLimits(tc.maxConns, tc.perConn)
				require.Equal(t, tc.v.ok, apiErr == nil, "the server's check: %v", apiErr)
				_, _, err := runCLI("serve", "--state", dir, "--listen", "nonsense", "--max-conns", fmt.Sprint(tc.maxConns), "--max-conns-per-client", fmt.Sprint(tc.perConn))
				checkServe(t, "serve flags", err, tc.v)
				file := write(fmt.Sprintf(`{"listen": "nonsense", "state_dir": %q, "max_conns": %d, "max_conns_per_client": %d}`, dir, tc.maxConns, tc.perConn))
				_, _, err = runCLI("serve", "--config", file)
				if tc.perConn < 0 {
					// The file's numbers are whole numbers: a negative one
					// is refused as a value, naming the key.
					require.Equal(t, exitUsage, statusOf(err), "%v", err)
					require.ErrorContains(t, err, "max_conns_per_client")
					return
				}
				checkServe(t, "file max_conns", err, tc.v)
			})
		}
	})
}
