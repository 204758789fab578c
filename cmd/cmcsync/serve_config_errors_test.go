package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/config"
)

// TestServeConfigValueErrors: a value serve refuses that came from the
// configuration file is named by its key and the file (FILE:LINE), never
// as the flag it stands for; every key serve reads has a row. Each file
// holds one member a line, the first on line 2. Nothing is created in the
// state folder.
func TestServeConfigValueErrors(t *testing.T) {
	dir := t.TempDir()
	sim := func(n string) string { return testChipSpec + filepath.Join(dir, n) }
	aFile := filepath.Join(dir, "a-file")
	require.NoError(t, os.WriteFile(aFile, []byte("x"), 0o600))
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()

	tests := []struct {
		key     string   // the key the row is about
		members []string // the file's members, one a line from line 2
		want    []string // in the error, besides the file's name ("FILE:" is the file's path)
		flag    string   // the flag the error must not name
		status  int
	}{
		{"state_dir", []string{q("state_dir", aFile)}, []string{"state_dir (FILE:2): state folder " + aFile + " is a file"}, "--state", 2},
		{"listen", []string{q("listen", "nonsense")}, []string{`listen "nonsense" (FILE:2): address nonsense: missing port`}, "--listen", 2},
		{"listen", []string{q("listen", busy.Addr().String())}, []string{busy.Addr().String() + " is already in use", "listen (FILE:2)"}, "--listen", 3},
		{"listen", []string{q("listen", "0.0.0.0:0")}, []string{"listen 0.0.0.0:0 (FILE:2)", "tls_cert and tls_key"}, "--tls-cert", 2},
		{"tls_cert", []string{q("tls_cert", "/nonexistent/cert.pem")}, []string{"tls_cert (FILE:2) is set but --tls-key is not"}, "--tls-cert", 2},
		{"tls_key", []string{q("tls_key", "/nonexistent/key.pem")}, []string{"tls_key (FILE:2) is set but --tls-cert is not"}, "--tls-key", 2},
		{"tls_cert", []string{q("tls_cert", "/nonexistent/cert.pem"), q("tls_key", "/nonexistent/key.pem")},
			[]string{"tls_cert /nonexistent/cert.pem (FILE:2) tls_key /nonexistent/key.pem (FILE:3): open /nonexistent/cert.pem"}, "--tls-key", 2},
		{"cmc_step", []string{q("cmc_step", "-1s")}, []string{"FILE:2: cmc_step: duration \"-1s\" is negative"}, "--cmc-step", 2},
		{"scrub_every", []string{q("scrub_every", "-1h")}, []string{"FILE:2: scrub_every: duration \"-1h\" is negative"}, "--scrub-every", 2},
		{"stuck_after", []string{q("stuck_after", "-1m")}, []string{"FILE:2: stuck_after: duration \"-1m\" is negative"}, "--stuck-after", 2},
		{"seed", []string{`"seed": -1`}, []string{"FILE:2: seed: -1 is not a whole number"}, "--seed", 2},
		{"pace", []string{q("pace", "yes")}, []string{"FILE:2: pace: want true or false"}, "--pace", 2},
		{"simulate_cmc", []string{q("simulate_cmc", "yes")}, []string{"FILE:2: simulate_cmc: want true or false"}, "--simulate-cmc", 2},
		{"faults", []string{q("faults", "(on (at 3)")}, []string{"FILE:2: faults:"}, "--faults", 2},
		{"faults", []string{q("faults", "(on (at 3) cut)"), `"chips": {"primary": {"device": "mtd:/dev/mtd0"}, "backup": {"device": "mtd:/dev/mtd1"}}`},
			[]string{"faults (FILE:2) needs two simulated chips"}, "--faults", 2},
		{"on_failover", []string{q("on_failover", "builtin:reboot")}, []string{`on_failover (FILE:2): unknown built-in failover action "reboot"`}, "--on-failover", 2},
		{"on_failover", []string{q("on_failover", "/nonexistent/cmcsync-hook arg")}, []string{`on_failover (FILE:2): exec: "/nonexistent/cmcsync-hook"`}, "--on-failover", 2},
		{"on_failover_timeout", []string{q("on_failover", "/bin/true"), q("on_failover_timeout", "0s")}, []string{"on_failover_timeout (FILE:3) must be positive"}, "--on-failover-timeout", 2},
		{"chips.primary.device", []string{`"chips": {"primary": {"device": "` + sim("a.img") + `"}}`}, []string{"give both chips.primary.device (FILE:2) and --backup"}, "--primary", 2},
		{"chips.backup.device", []string{`"chips": {"backup": {"device": "` + sim("b.img") + `"}}`}, []string{"give both --primary and chips.backup.device (FILE:2)"}, "--backup", 2},
		{"chips.primary.device", []string{`"chips": {"primary": {"device": "` + sim("a.img") + `"}`, `"backup": {"device": "` + sim("a.img") + `"}}`},
			[]string{"chips.primary.device (FILE:2) and chips.backup.device (FILE:3) name the same chip"}, "--primary", 2},
		{"chips.backup.device", []string{`"chips": {"primary": {"device": "` + sim("a.img") + `"}`, `"backup": {"device": "mtd:name=cmcsync-no-such-partition"}}`},
			[]string{"chips.backup.device (FILE:3): flash spec \"mtd:name=cmcsync-no-such-partition\""}, "--backup", 1},
		{"info_place", []string{q("info_place", "0x100000+1M")}, []string{"info_place (FILE:2): give both the information region's and the store's place"}, "--info", 2},
		{"store_place", []string{q("store_place", "0x200000+1M")}, []string{"store_place (FILE:2): give both"}, "--store", 2},
		{"image_id", []string{q("image_id", "bogus:kernel")}, []string{`image_id (FILE:2): bad place: image identity kind "bogus"`}, "--image-id", 2},
		{"max_conns", []string{`"max_conns": 0`}, []string{"max_conns 0 (FILE:2)", "max connections 0 is out of range: give 1 to 4096"}, "--max-conns", 2},
		{"max_conns", []string{`"max_conns": -1`}, []string{"FILE:2: max_conns: -1 is not a whole number"}, "--max-conns", 2},
		{"max_conns_per_client", []string{`"max_conns": 8`, `"max_conns_per_client": 9`}, []string{"max_conns 8 (FILE:2), max_conns_per_client 9 (FILE:3)", "per client 9 is out of range"}, "--max-conns-per-client", 2},
	}
	for _, k := range []string{"chips.primary.info.offset", "chips.primary.info.size", "chips.primary.store.offset", "chips.primary.store.size",
		"chips.backup.info.offset", "chips.backup.info.size", "chips.backup.store.offset", "chips.backup.store.size"} {
		// A size that parses, with places given as names too: not both.
		parts := strings.Split(k, ".") // chips, ROLE, info|store, offset|size
		member := fmt.Sprintf(`"chips": {%q: {%q: {%q: "1M"}}}`, parts[1], parts[2], parts[3])
		tests = append(tests, struct {
			key     string
			members []string
			want    []string
			flag    string
			status  int
		}{k, []string{member, q("info_place", "0x100000+1M"), q("store_place", "0x200000+1M")},
			[]string{k + " (FILE:2), info_place (FILE:3), store_place (FILE:4): give the places as --info and --store, or as offsets and sizes"}, "--" + parts[2] + "-" + parts[3], 2})
	}

	// Every key serve reads has a row (select is sync's alone).
	var covered []string
	for _, tc := range tests {
		covered = append(covered, tc.key)
	}
	for key := range config.Keys() {
		if key == "select" {
			continue
		}
		require.Contains(t, covered, key, "a row for every key serve reads")
	}

	for i, tc := range tests {
		t.Run(fmt.Sprintf("%s/%d", tc.key, i), func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "cmcsync.json")
			require.NoError(t, os.WriteFile(cfg, []byte("{\n"+strings.Join(tc.members, ",\n")+"\n}\n"), 0o600))
			state := filepath.Join(t.TempDir(), "state")
			args := []string{"serve", "--config", cfg, "--listen", "127.0.0.1:0"}
			if !slices.ContainsFunc(tc.members, func(m string) bool { return strings.Contains(m, `"state_dir"`) }) {
				args = append(args, "--state", state)
			}
			if slices.ContainsFunc(tc.members, func(m string) bool { return strings.Contains(m, `"listen"`) }) {
				args = slices.Delete(args, 3, 5) // the file's address
			}
			_, _, err := runCLI(args...)
			require.Error(t, err)
			require.Equal(t, tc.status, statusOf(err), "%v", err)
			for _, w := range tc.want {
				require.ErrorContains(t, err, strings.ReplaceAll(w, "FILE:", cfg+":"))
			}
			require.NotContains(t, err.Error(), "serve: "+tc.flag, "the value came from the file, not the flag")
			_, serr := os.Stat(state)
			require.ErrorIs(t, serr, os.ErrNotExist, "bad input touches nothing")
		})
	}
}

// q is a JSON member with a string value.
func q(key, value string) string { return fmt.Sprintf("%q: %q", key, value) }

// TestServeFlagValueErrorsNameTheFlag: the same values given as flags are
// named as the flags, with a configuration file given too.
func TestServeFlagValueErrorsNameTheFlag(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "cmcsync.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"on_failover": "/bin/true", "listen": "127.0.0.1:0"}`), 0o600))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--on-failover", "builtin:reboot"}, `serve: --on-failover: unknown built-in failover action "reboot"`},
		{[]string{"--on-failover-timeout", "0s"}, "serve: --on-failover-timeout must be positive"},
		{[]string{"--listen", "nonsense"}, `serve: --listen "nonsense": address nonsense`},
		{[]string{"--tls-cert", "/nonexistent/cert.pem"}, "serve: --tls-cert is set but --tls-key is not"},
		{[]string{"--image-id", "bogus:kernel"}, `serve: --image-id: bad place: image identity kind "bogus"`},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			state := filepath.Join(t.TempDir(), "state")
			_, _, err := runCLI(append([]string{"serve", "--config", cfg, "--state", state}, tc.args...)...)
			require.Equal(t, 2, statusOf(err), "%v", err)
			require.ErrorContains(t, err, tc.want)
			_, serr := os.Stat(state)
			require.ErrorIs(t, serr, os.ErrNotExist, "bad input touches nothing")
		})
	}
}
