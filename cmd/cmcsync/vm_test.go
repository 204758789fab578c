package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestVMUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no subcommand", []string{"vm"}, 2, "no subcommand"},
		{"unknown subcommand", []string{"vm", "fly"}, 2, "unknown subcommand"},
		{"scenario without name", []string{"vm", "scenario", "--json"}, 2, "name a scenario first"},
		{"unknown scenario", []string{"vm", "scenario", "dance"}, 2, "unknown scenario"},
		{"zero cycles", []string{"vm", "scenario", "powercut", "--cycles", "0"}, 2, "--cycles must be at least 1"},
		{"unknown mutant", []string{"vm", "scenario", "sync", "--mutant", "nonesuch"}, 2, `unknown mutant "nonesuch"`},
		{"extra with a schedule", []string{"vm", "scenario", "nand-diff", "--schedule", "nand seed=1 mutant=none | (on (at 33) cut) | none", "--extra", "nand seed=1 mutant=no-purge | (on (at 379) cut) | none"}, 2, "--extra goes with --points"},
		{"arm-only scenario on x86", []string{"vm", "scenario", "sync", "--variant", "x86"}, 2, "arm variant only"},
		{"bad variant", []string{"vm", "build", "--variant", "mips"}, 2, "want arm or x86"},
		{"build extra args", []string{"vm", "build", "now"}, 2, "unexpected arguments"},
		{"boot bad flag", []string{"vm", "boot", "--fast"}, 2, "flag provided but not defined"},
		// Replay lines are parsed before any asset is fetched or built.
		{"bad schedule", []string{"vm", "scenario", "powercut", "--cache", os.DevNull, "--schedule", "garbage"}, 2, "vm scenario: --schedule: bad replay line"},
		{"bad extra", []string{"vm", "scenario", "diff", "--cache", os.DevNull, "--extra", "standard seed=1 | (on (at 3) cut)"}, 2, "vm scenario: --extra: bad replay line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), tt.args, &out, &errOut)
			var ee *exitError
			require.ErrorAs(t, err, &ee)
			require.Equal(t, tt.code, ee.code)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestVMHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"vm", "help"}, &out, &errOut))
	for _, s := range []string{"build", "boot", "scenario", "powercut", "selftest", "nand", "sync"} {
		require.Contains(t, out.String(), s)
	}
}

// TestVMSubcommandHelp: -h on a vm subcommand prints its flags and does
// nothing else (no build, no QEMU).
func TestVMSubcommandHelp(t *testing.T) {
	for _, args := range [][]string{{"vm", "build"}, {"vm", "boot"}, {"vm", "scenario", "sync"}} {
		cache := t.TempDir()
		var out, errOut bytes.Buffer
		args = append(args, "--cache", cache, "-h")
		require.NoError(t, run(context.Background(), args, &out, &errOut), "%v", args)
		require.Contains(t, errOut.String(), "-variant", "%v", args)
		entries, err := os.ReadDir(cache)
		require.NoError(t, err)
		require.Empty(t, entries, "%v wrote to the cache", args)
	}
}

// TestVMAndGuestHelpSayWhatTheyDo: cmcsync help of vm build, vm boot and
// guest starts with a usage line and a description, as every other
// command's does (was the flag package's bare "Usage of ...").
func TestVMAndGuestHelpSayWhatTheyDo(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"help", "vm", "build"}, "usage: cmcsync vm build "},
		{[]string{"help", "vm", "boot"}, "usage: cmcsync vm boot "},
		{[]string{"help", "guest"}, "usage: cmcsync guest [flags]"},
	} {
		t.Run(tc.args[len(tc.args)-1], func(t *testing.T) {
			var out, errOut bytes.Buffer
			require.NoError(t, run(context.Background(), tc.args, &out, &errOut))
			require.True(t, strings.HasPrefix(out.String(), tc.want), out.String())
			require.NotContains(t, out.String(), "Usage of")
		})
	}
}
