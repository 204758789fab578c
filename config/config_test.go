package config_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/config"
	"github.com/cmcsync/cmcsync/hal"
)

const good = `{
  "chips": {
    "primary": {"device": "mtd:name=flash0", "info": {"offset": "0x100000", "size": "8M"}, "store": {"offset": "9M"}},
    "backup":  {"device": "mtd:/dev/mtd6",   "info": {"offset": 1048576, "size": "8M"}, "store": {"offset": "0x900000"}}
  },
  "state_dir": "/var/lib/cmcsync",
  "listen": "127.0.0.1:8080",
  "cmc_step": "0s",
  "scrub_every": "24h",
  "seed": 7,
  "pace": false,
  "select": "power,sel",
  "on_failover": "builtin:ast2600-alt-boot",
  "on_failover_timeout": "10s"
}`

func TestDecode(t *testing.T) {
	f, err := config.Decode("c.json", []byte(good))
	require.NoError(t, err)
	got := map[string]string{}
	for _, s := range f.Settings {
		got[s.Key] = s.Flag + "=" + s.Value
	}
	require.Equal(t, map[string]string{
		"chips.primary.device":       "primary=mtd:name=flash0",
		"chips.primary.info.offset":  "info-offset=1048576",
		"chips.primary.info.size":    "info-size=8388608",
		"chips.primary.store.offset": "store-offset=9437184",
		"chips.backup.device":        "backup=mtd:/dev/mtd6",
		"chips.backup.info.offset":   "info-offset=1048576",
		"chips.backup.info.size":     "info-size=8388608",
		"chips.backup.store.offset":  "store-offset=9437184",
		"state_dir":                  "state=/var/lib/cmcsync",
		"listen":                     "listen=127.0.0.1:8080",
		"cmc_step":                   "cmc-step=0s",
		"scrub_every":                "scrub-every=24h",
		"seed":                       "seed=7",
		"pace":                       "pace=false",
		"select":                     "select=power,sel",
		"on_failover":                "on-failover=builtin:ast2600-alt-boot",
		"on_failover_timeout":        "on-failover-timeout=10s",
	}, got)
	s, ok := f.Lookup("backup")
	require.True(t, ok)
	require.Equal(t, 4, s.Line)
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string // substrings of the error
	}{
		{"unknown key", `{"listen": "x", "lisen": "y"}`, []string{"c.json:1: lisen: unknown key", "listen"}},
		{"unknown nested key", "{\"chips\": {\n\"primary\": {\"dev\": \"mtd:/dev/mtd5\"}}}", []string{"c.json:2: chips.primary.dev: unknown key", "device"}},
		{"unknown chip", `{"chips": {"third": {}}}`, []string{"chips.third: unknown key", "backup, primary"}},
		{"duplicate key", "{\n\"seed\": 1,\n\"seed\": 2}", []string{"c.json:3: key \"seed\" given twice (first on line 2)"}},
		{"duplicate nested key", `{"chips": {"primary": {"device": "mtd:/dev/mtd5", "device": "mtd:/dev/mtd6"}}}`, []string{"\"device\" given twice"}},
		{"bad duration", "{\n\n\"cmc_step\": \"2 seconds\"}", []string{"c.json:3: cmc_step:", "not a duration"}},
		{"negative duration", `{"scrub_every": "-1h"}`, []string{"scrub_every: duration \"-1h\" is negative"}},
		{"duration as number", `{"cmc_step": 2}`, []string{"cmc_step: want a string, not a number"}},
		{"bad size", `{"chips": {"primary": {"info": {"size": "8Q"}}}}`, []string{"chips.primary.info.size:"}},
		{"bad hex size", `{"chips": {"primary": {"info": {"offset": "0xZZ"}}}}`, []string{"chips.primary.info.offset: size \"0xZZ\": not a hexadecimal"}},
		{"bad spec", `{"chips": {"backup": {"device": "mtd:dev/mtd6"}}}`, []string{"chips.backup.device: flash spec", "absolute path"}},
		{"bad types", `{"select": "power,psu"}`, []string{"select: unknown information type \"psu\""}},
		{"bad fault schedule", "{\n\"faults\": \"(on primary (cut)\"}", []string{"c.json:2: faults: ", "schedule"}},
		{"seed negative", `{"seed": -1}`, []string{"seed: -1 is not a whole number"}},
		{"seed fraction", `{"seed": 1.5}`, []string{"seed: 1.5 is not a whole number"}},
		{"bool as string", `{"pace": "yes"}`, []string{"pace: want true or false, not a string"}},
		{"empty string", `{"listen": ""}`, []string{"listen: empty value"}},
		{"object expected", `{"chips": "mtd:/dev/mtd5"}`, []string{"chips: want an object, not a string"}},
		{"not an object", `["x"]`, []string{"one JSON object, not an array"}},
		{"trailing data", "{}\n{}", []string{"c.json:2: trailing data"}},
		{"syntax", "{\n\"seed\": 1,,\n}", []string{"c.json:2: JSON syntax"}},
		{"truncated", `{"seed": 1`, []string{"ends inside"}},
		{"empty file", "", []string{"c.json:1: the file is empty: write one JSON object"}},
		{"only spaces", " \n\t\n", []string{"c.json:1: the file is empty"}},
		{"layouts differ", "{\"chips\": {\"primary\": {\"info\": {\"size\": \"8M\"}},\n \"backup\": {\"info\": {\"size\": \"4M\"}}}}",
			[]string{"c.json:2: chips.backup.info.size: 4194304 differs from chips.primary.info.size (8388608, line 1): both chips of a pair use one layout"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Decode("c.json", []byte(tc.text))
			require.NotContains(t, fmt.Sprint(err), "%!", "a formatting verb left unfilled")
			require.ErrorIs(t, err, config.ErrConfig)
			for _, w := range tc.want {
				require.ErrorContains(t, err, w)
			}
		})
	}
}

// TestLoadErrors: a configuration file that is missing or not readable, and
// a syntax error, are errors about the configuration file (exit status 2),
// naming the file by the path given.
func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.json")
	_, err := config.Load(missing)
	require.ErrorIs(t, err, config.ErrConfig)
	require.ErrorContains(t, err, missing+": no such file or directory")
	require.NotContains(t, err.Error(), "open "+missing, "the path is named once")

	_, err = config.Load(dir)
	require.ErrorIs(t, err, config.ErrConfig, "a folder given as the file")

	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte("{\n\"seed\": 1,,\n}"), 0o600))
	_, err = config.Load(bad)
	require.ErrorIs(t, err, config.ErrConfig)
	require.ErrorContains(t, err, bad+":2: JSON syntax", "a syntax error names the file as given, like every other error")
}

func TestApplyFlagsOverride(t *testing.T) {
	f, err := config.Decode("c.json", []byte(good))
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		args []string
		want map[string]string
	}{
		{"file only", nil, map[string]string{"primary": "mtd:name=flash0", "seed": "7", "cmc-step": "0s", "info-size": "8388608"}},
		{"flag wins", []string{"--seed", "9", "--primary", "sim:part=w25q256jv"}, map[string]string{"primary": "sim:part=w25q256jv", "seed": "9", "backup": "mtd:/dev/mtd6"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			fs.String("primary", "", "")
			fs.String("backup", "", "")
			fs.String("info-size", "", "")
			fs.Uint64("seed", 1, "")
			fs.Duration("cmc-step", 2*time.Second, "")
			// no --listen and others: the file's keys for them are left out
			require.NoError(t, fs.Parse(tc.args))
			require.NoError(t, f.Apply(fs))
			for k, v := range tc.want {
				require.Equal(t, v, fs.Lookup(k).Value.String(), k)
			}
		})
	}
}

func TestApplyRefusedValue(t *testing.T) {
	// A value the config package accepts but the flag refuses still names
	// the file, line and key.
	f, err := config.Decode("c.json", []byte("{\n\"seed\": 18446744073709551615}"))
	require.NoError(t, err)
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.Int("seed", 0, "")
	err = f.Apply(fs)
	require.ErrorContains(t, err, "c.json:2: seed:")
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		bad  bool
	}{{"0x100000", 1 << 20, false}, {"0X10", 16, false}, {"8M", 8 << 20, false}, {"4096", 4096, false}, {"0x", 0, true}, {"-0x1", 0, true}, {"8Q", 0, true},
		{"0x+10", 0, true}, {"0x-0", 0, true}, {"0x1_0", 0, true}, {"0xffffffffffffffff", 0, true}} {
		v, err := config.ParseSize(tc.in)
		if tc.bad {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, v, tc.in)
	}
}

func TestKeysNameFlags(t *testing.T) {
	k := config.Keys()
	require.Equal(t, "primary", k["chips.primary.device"])
	require.Equal(t, "store-size", k["chips.backup.store.size"])
	for key := range k {
		require.False(t, strings.Contains(key, "format") || strings.Contains(key, "force") || strings.Contains(key, "populate"), "destructive key %s", key)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(`{"seed": 1, "seed": 2}`))
	f.Add([]byte(`{"chips": {"primary": {"info": {"size": 4096}}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := config.Decode("f.json", b)
		if err != nil {
			if !strings.Contains(err.Error(), "f.json:") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		for _, s := range c.Settings {
			if s.Flag == "" || s.Line < 1 {
				t.Fatalf("setting %+v", s)
			}
		}
	})
}

// FuzzParseSize: no panic on any text; a size that parses is not negative,
// a hexadecimal one ("0x...") has only hexadecimal digits after its 0x (no
// sign), and any other is what hal.ParseSize makes of it.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"8M", "0x900000", "0X10", "1048576", " 4K ", "0x", "0x-0", "0x+10", "-1", "8Q", "0xffffffffffffffff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := config.ParseSize(s)
		if err != nil {
			return
		}
		if v < 0 {
			t.Fatalf("%q parses to %d", s, v)
		}
		ts := strings.TrimSpace(s)
		if h, ok := strings.CutPrefix(strings.ToLower(ts), "0x"); ok {
			if h == "" || strings.Trim(h, "0123456789abcdef") != "" {
				t.Fatalf("%q parses to %d: not a hexadecimal number", s, v)
			}
			return
		}
		hv, herr := hal.ParseSize(ts)
		if herr != nil || hv != v {
			t.Fatalf("%q: %d, hal.ParseSize %d, %v", s, v, hv, herr)
		}
	})
}

// TestDeployExample: the shipped example configuration decodes.
func TestDeployExample(t *testing.T) {
	f, err := config.Load("../deploy/cmcsync.json")
	require.NoError(t, err)
	s, ok := f.Lookup("primary")
	require.True(t, ok)
	require.Equal(t, "mtd:name=cmcsync0", s.Value)
	s, ok = f.Lookup("store-size")
	require.True(t, ok)
	require.Equal(t, "24117248", s.Value)
}
