package guest

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/engine"
)

// parseArgs parses args as `cmcsync guest` does, from the defaults.
func parseArgs(args []string) (Command, error) {
	c := DefaultCommand()
	fs := flag.NewFlagSet("guest", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.Flags(fs)
	err := fs.Parse(args)
	return c, err
}

// TestCommandRoundTrip: what the host builds, the guest parses back to the
// same command.
func TestCommandRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		cmd  Command
		want string
	}{
		{"defaults", DefaultCommand(),
			"cmcsync guest --primary mtd:/dev/mtd5 --backup mtd:/dev/mtd6 --rounds 1 --seed 1 --activity 10m0s"},
		{"sync", Command{Primary: DefaultPrimary, Backup: DefaultBackup, Rounds: 1, Seed: 4},
			"cmcsync guest --primary mtd:/dev/mtd5 --backup mtd:/dev/mtd6 --rounds 1 --seed 4 --activity 0s"},
		{"powercut", Command{Primary: DefaultPrimary, Backup: DefaultBackup, Seed: 1000004, Activity: 2 * time.Hour, Hold: true, TraceWrites: true, Mutant: engine.NoPurge},
			"cmcsync guest --primary mtd:/dev/mtd5 --backup mtd:/dev/mtd6 --rounds 0 --seed 1000004 --activity 2h0m0s --trace-writes --hold --mutant no-purge"},
		{"nand", Command{Primary: "mtd:/dev/mtd0", Backup: "mtd:/dev/mtd1", Rounds: 3, Seed: 1, Activity: 10 * time.Minute, Format: true,
			MarkBad: []BadBlock{{Primary, 90}, {Backup, 101}}},
			"cmcsync guest --primary mtd:/dev/mtd0 --backup mtd:/dev/mtd1 --rounds 3 --seed 1 --activity 10m0s --format --mark-bad primary:90,backup:101"},
		{"paused, a path that needs quotes", Command{Primary: "sim:part=mx66l1g45g,file=/tmp/my chips/p.img", Backup: "sim:part=mx66l1g45g", Rounds: 2, Pause: time.Second},
			"cmcsync guest --primary 'sim:part=mx66l1g45g,file=/tmp/my chips/p.img' --backup sim:part=mx66l1g45g --rounds 2 --seed 0 --activity 0s --pause 1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.cmd.String())
			got, err := parseArgs(tt.cmd.Args())
			require.NoError(t, err)
			require.Equal(t, tt.cmd, got)
		})
	}
}

func TestCommandFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--mutant", "nonesuch"}, `unknown mutant "nonesuch"`},
		{[]string{"--mark-bad", "primary:x"}, `"primary:x" is not primary:BLOCK`},
		{[]string{"--mark-bad", "spare:3"}, "chip must be primary or backup"},
		{[]string{"--rounds", "many"}, "invalid value"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := parseArgs(tt.args)
			require.ErrorContains(t, err, tt.want)
		})
	}
}
