package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/qemu/guest"
)

func init() {
	register(command{name: "guest", summary: "run sync rounds as the CMC's sync service (inside the QEMU guest)", run: runGuest})
}

// runGuest runs `cmcsync guest`: the guest service (guest.Run) on the two
// chips its flags name, printing one guest.Line per step on stdout for the
// host to parse off the serial console.
func runGuest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "replay" {
		return runGuestReplay(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("guest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := guest.DefaultCommand()
	c.Flags(fs)
	if done, err := parseFlags(fs, args); done {
		return err
	}
	if c.Rounds < 0 {
		return usageError("guest: --rounds must be 0 or more")
	}
	var specs [2]flashspec.Spec
	for i, s := range []string{c.Primary, c.Backup} {
		sp, err := flashspec.Parse(s)
		if err != nil {
			return usageError("guest: %v", err)
		}
		specs[i] = sp
	}
	pf, err := flashspec.Open(specs[0], nil)
	if err != nil {
		return err
	}
	defer hal.Close(pf)
	bf, err := flashspec.Open(specs[1], nil)
	if err != nil {
		return err
	}
	defer hal.Close(bf)
	if err := guest.Run(ctx, c, pf, bf, guest.NewWriter(stdout), os.Stdin); err != nil {
		return fmt.Errorf("guest: %w", err)
	}
	return nil
}

// runGuestReplay runs `cmcsync guest replay`: one phase of a campaign case
// on the two chips (guest.RunReplay), its lines on stdout.
func runGuestReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("guest replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := guest.ReplayCommand{Primary: guest.DefaultPrimary, Backup: guest.DefaultBackup}
	c.Flags(fs)
	if done, err := parseFlags(fs, args); done {
		return err
	}
	var chips [2]hal.Flash
	for i, s := range []string{c.Primary, c.Backup} {
		sp, err := flashspec.Parse(s)
		if err != nil {
			return usageError("guest replay: %v", err)
		}
		f, err := flashspec.Open(sp, nil)
		if err != nil {
			return err
		}
		defer hal.Close(f)
		chips[i] = f
	}
	if err := guest.RunReplay(ctx, c, chips[0], chips[1], guest.NewWriter(stdout)); err != nil {
		return fmt.Errorf("guest replay: %w", err)
	}
	return nil
}
