package guest

import (
	"context"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// What the host builds, the guest parses back to the same replay command.
func TestReplayCommandRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		cmd  ReplayCommand
	}{
		{"round", ReplayCommand{Primary: DefaultPrimary, Backup: DefaultBackup, Part: "mx66l1g45g", Size: 32 << 20, Region: 8 << 20,
			Types: info.All(), Interval: 5 * time.Minute, Threshold: 2 * time.Second, ProbeEvery: 20 * time.Millisecond,
			Phase: PhaseRound, Clock: 1767225637154022400, Schedule: "(on (at 487) cut)"}},
		{"recover with a mutant", ReplayCommand{Primary: "mtd:/dev/mtd0", Backup: "mtd:/dev/mtd1", Part: "mt29f2g01", Size: 128 << 20, Region: 1 << 20,
			Types: []info.Type{info.Power, info.Fan}, Interval: time.Minute, Threshold: time.Second, ProbeEvery: 20 * time.Millisecond,
			Mutant: engine.NoPurge, Phase: PhaseRecover, Clock: 1}},
		{"round that ends at the cut", ReplayCommand{Primary: "mtd:/dev/mtd0", Backup: "mtd:/dev/mtd1", Part: "mt29f2g01", Size: 32 << 20, Region: 2 << 20,
			Types: info.All(), Interval: 5 * time.Minute, Threshold: 2 * time.Second, ProbeEvery: 20 * time.Millisecond,
			Phase: PhaseRound, Clock: 7, Schedule: "(on (at 27) cut)", ExitAtCut: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := tt.cmd.String()
			require.True(t, strings.HasPrefix(line, "cmcsync guest replay "))
			var got ReplayCommand
			fs := flag.NewFlagSet("replay", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			got.Flags(fs)
			require.NoError(t, fs.Parse(tt.cmd.Args()))
			require.Equal(t, tt.cmd, got)
		})
	}
}

// Only faults that leave the cells to the chip can be replayed on a real
// one.
func TestCheckReal(t *testing.T) {
	tests := []struct {
		schedule string
		ok       bool
	}{
		{"(on (at 41) cut)", true},
		{"(on (at 41) (torn bits))", false},
		{"(seed 1) (on (at 1) (flip primary 0x100000 0x1000ac 1))", false},
		{"(on (at 3) (fail media))", true},
	}
	for _, tt := range tests {
		t.Run(tt.schedule, func(t *testing.T) {
			s, err := faults.ParseSchedule(tt.schedule)
			require.NoError(t, err)
			err = CheckReal(s)
			if tt.ok {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, "cannot be applied to a real chip")
			}
		})
	}
}

// RunReplay refuses what it cannot do before touching the chips.
func TestRunReplayRefuses(t *testing.T) {
	pf, bf := newChip(t, "mx66l1g45g", 8<<20), newChip(t, "mx66l1g45g", 8<<20)
	base := ReplayCommand{Part: "mx66l1g45g", Size: 8 << 20, Region: 1 << 20, Types: info.All(), Phase: PhaseRound}
	tests := []struct {
		name string
		edit func(c *ReplayCommand)
		want string
	}{
		{"torn", func(c *ReplayCommand) { c.Schedule = "(on (at 4) (torn bits))" }, "real chip"},
		{"bad phase", func(c *ReplayCommand) { c.Phase = "later" }, "want round or recover"},
		{"faulted recovery", func(c *ReplayCommand) { c.Phase, c.Schedule = PhaseRecover, "(on (at 4) cut)" }, "without faults"},
		{"bigger than the chip", func(c *ReplayCommand) { c.Size = 16 << 20 }, "less than the 16MiB simulated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			tt.edit(&c)
			var out strings.Builder
			err := RunReplay(context.Background(), c, pf, bf, NewWriter(&out))
			require.ErrorContains(t, err, tt.want)
			require.Zero(t, pf.Stats().Programs+bf.Stats().Programs+pf.Stats().Erases+bf.Stats().Erases)
		})
	}
}
