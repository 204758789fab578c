package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFlagMistakesAreOneLine: an unknown flag or a flag value that does not
// parse writes nothing itself (no usage dump) and returns one usage error
// (exit 2) that names the command and where its flags are listed; -h still
// prints the usage.
func TestFlagMistakesAreOneLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sync", "--bogus"}, "sync: flag provided but not defined: -bogus (cmcsync help sync lists the flags)"},
		{[]string{"inspect", "--verify=maybe"}, `inspect: invalid boolean value "maybe" for -verify`},
		{[]string{"campaign", "--count", "abc"}, `campaign: invalid value "abc" for flag -count`},
		{[]string{"campaign", "merge", "--x", "r.json"}, "campaign merge: flag provided but not defined: -x"},
		{[]string{"config", "set", "--interval", "xx"}, `config set: invalid value "xx" for flag -interval`},
		{[]string{"info", "put", "power", "f", "--bogus"}, "info put: flag provided but not defined: -bogus (cmcsync help info put lists the flags)"},
		{[]string{"guest", "--nope"}, "guest: flag provided but not defined: -nope"},
		{[]string{"vm", "boot", "--fast"}, "vm boot: flag provided but not defined: -fast"},
		// A typo or a flag cut short names the flag meant; a bare number
		// for a duration says what a duration looks like.
		{[]string{"sync", "--populat"}, "sync: flag provided but not defined: -populat (did you mean --populate? cmcsync help sync lists the flags)"},
		{[]string{"sync", "--primry", "x"}, "(did you mean --primary? cmcsync help sync lists the flags)"},
		{[]string{"campaign", "--mutnt", "no-purge"}, "(did you mean --mutant? cmcsync help campaign lists the flags)"},
		{[]string{"serve", "--scrub", "1h"}, "(did you mean --scrub-every? cmcsync help serve lists the flags)"},
		{[]string{"config", "set", "--interval", "30"}, `config set: invalid value "30" for flag -interval: parse error (--interval takes a duration with its unit, such as 30s, 5m, 1h30m or 500ms; cmcsync help config set lists the flags)`},
		{[]string{"campaign", "--count", "abc"}, `campaign: invalid value "abc" for flag -count: parse error (cmcsync help campaign lists the flags)`},
		{[]string{"sync", "--populate", "--force"}, "sync: flag needs an argument: -force (--force takes a value: with --populate: the chips (primary, backup, comma-separated) whose data it may erase; cmcsync help sync lists the flags)"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			stdout, stderr, err := runCLI(tc.args...)
			code, msg := exitOf(t, err)
			require.Equal(t, 2, code, msg)
			require.Contains(t, msg, tc.want)
			require.NotContains(t, msg, "\n")
			require.Empty(t, stdout)
			require.Empty(t, stderr, "the flag package's own message and usage are not printed")
		})
	}
}

// TestVersionFlag: --version, as other tools take it, is cmcsync version
// (it was an unknown command).
func TestVersionFlag(t *testing.T) {
	want, _, err := runCLI("version", "--json")
	require.NoError(t, err)
	for _, flag := range []string{"--version", "-version"} {
		out, _, err := runCLI(flag, "--json")
		require.NoError(t, err, flag)
		require.Equal(t, want, out, flag)
	}
}

// TestFlagHelpStillPrintsUsage: -h on a command prints its usage (on
// standard error, as flag does) and is not an error.
func TestFlagHelpStillPrintsUsage(t *testing.T) {
	for _, args := range [][]string{{"sync", "-h"}, {"campaign", "merge", "-h"}, {"guest", "-h"}, {"info", "put", "-h"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, stderr, err := runCLI(args...)
			require.NoError(t, err)
			require.Contains(t, stderr, "-")
			require.Greater(t, strings.Count(stderr, "\n"), 2, stderr)
		})
	}
}

// TestStrayArgumentsNamedAlone: flags after a stray argument are still
// parsed, so the error names only the stray arguments (it listed the
// flags after them too, as if --primary were unexpected).
func TestStrayArgumentsNamedAlone(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"upgrade", "keep", "extra", "--primary", "sim:part=mx66l1g45g,size=8M"}, `upgrade keep: unexpected arguments ["extra"]`},
		{[]string{"version", "extra", "--json"}, `version: unexpected arguments ["extra"]`},
		{[]string{"inspect", "a", "--flash", "sim:part=mx66l1g45g,size=8M", "b"}, `inspect: unexpected arguments ["a" "b"]`},
		{[]string{"version", "--", "--json"}, `version: unexpected arguments ["--json"]`},
		{[]string{"nope"}, `unknown command "nope" (want one of bench, calibrate, campaign,`},
		{[]string{"synk"}, `unknown command "synk": did you mean sync? (want one of bench, calibrate, campaign,`},
		{[]string{"inspec", "--flash", "x"}, `unknown command "inspec": did you mean inspect?`},
		{[]string{"--json", "sync"}, `"--json" before a command: give the command first, flags after it, cmcsync COMMAND [flags] (commands: bench, calibrate,`},
		{[]string{"--primary", "sim:part=mx66l1g45g", "sync"}, `"--primary" before a command: give the command first`},
		{[]string{"help", "nope"}, `help: unknown command "nope" (want one of bench, calibrate, campaign,`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := runCLI(tc.args...)
			code, msg := exitOf(t, err)
			require.Equal(t, 2, code, msg)
			require.Contains(t, msg, tc.want)
		})
	}
}
