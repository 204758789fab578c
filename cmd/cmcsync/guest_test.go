package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/qemu/guest"
)

// TestGuestCommand runs `cmcsync guest` as the QEMU guest does, on image
// files: format and two rounds, then one more on the same chips.
func TestGuestCommand(t *testing.T) {
	dir := t.TempDir()
	c := guest.Command{
		Primary: testChipSpec + filepath.Join(dir, "p.img"),
		Backup:  testChipSpec + filepath.Join(dir, "b.img"),
		Rounds:  2, Seed: 7, Format: true,
	}
	var out, errOut bytes.Buffer
	require.NoError(t, run(context.Background(), append([]string{"guest"}, c.Args()...), &out, &errOut), errOut.String())
	lines, err := guest.Parse(out.String())
	require.NoError(t, err)
	var events []guest.Event
	for _, l := range lines {
		events = append(events, l.Event)
	}
	require.Equal(t, []guest.Event{guest.EventFormat, guest.EventOpen, guest.EventRoundStart, guest.EventRound,
		guest.EventRoundStart, guest.EventRound, guest.EventDone}, events)
	require.Equal(t, uint64(2), lines[len(lines)-1].Generation)
	require.Equal(t, len(lines), bytes.Count(out.Bytes(), []byte("\n")), "every line is a guest line")

	c.Format, c.Rounds, c.Seed = false, 1, 8
	out.Reset()
	require.NoError(t, run(context.Background(), append([]string{"guest"}, c.Args()...), &out, &errOut))
	lines, err = guest.Parse(out.String())
	require.NoError(t, err)
	require.True(t, lines[0].Is(guest.EventOpen, 0))
	require.Equal(t, uint64(2), lines[0].Generation)
	require.Equal(t, uint64(3), lines[len(lines)-1].Generation)
}

func TestGuestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad spec", []string{"--primary", "nope"}, "flash spec"},
		{"negative rounds", []string{"--rounds", "-1"}, "--rounds must be 0 or more"},
		{"unknown mutant", []string{"--mutant", "nonesuch"}, "mutant"},
		{"bad block list", []string{"--mark-bad", "primary"}, "primary:BLOCK"},
		{"extra args", []string{"x"}, "unexpected arguments"},
		{"unknown flag", []string{"--nope"}, "flag provided but not defined"},
		{"nand without an action", []string{"nand"}, "want load or save"},
		{"nand with a bad chip", []string{"nand", "load", "--chip", "nope", "--image", "x"}, "--chip"},
		{"nand without an image", []string{"nand", "save", "--chip", "mtd:/dev/mtd0"}, "--image is required"},
		{"nand flip on save", []string{"nand", "save", "--chip", "mtd:/dev/mtd0", "--image", "x", "--flip", "0"}, "--flip goes with load"},
		{"nand bad flip offset", []string{"nand", "load", "--chip", "mtd:/dev/mtd0", "--image", "x", "--flip", "zz"}, "flip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), append([]string{"guest"}, tt.args...), &out, &errOut)
			var ee *exitError
			require.ErrorAs(t, err, &ee)
			require.Equal(t, 2, ee.code)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}
