package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/hal/mtd"
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
	if len(args) > 0 && args[0] == "nand" {
		return runGuestNAND(args[1:], stdout, stderr)
	}
	fs := newFlagSet("guest", stderr,
		"usage: cmcsync guest [flags]",
		"       cmcsync guest replay [flags]",
		"       cmcsync guest nand load|save --chip SPEC --image FILE [flags]",
		"\nRuns sync rounds as the CMC's sync service inside the QEMU guest (cmcsync vm",
		"scenario starts it there), one line per step on standard output for the host;",
		"replay runs one phase of a campaign replay line, nand loads or saves a NAND chip.",
		"Not for a real CMC: cmcsync serve is the service.\n")
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

// runGuestNAND runs `cmcsync guest nand load|save`: a nandsim chip
// carried from one boot to the next on a disk image (guest.LoadImage,
// guest.SaveImage), and on load bit flips injected behind the ECC's back
// (mtd.InjectBitflip) that the kernel must correct and count.
func runGuestNAND(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "load" && args[0] != "save") {
		return usageError("guest nand: want load or save")
	}
	action := args[0]
	fs := flag.NewFlagSet("guest nand "+action, flag.ContinueOnError)
	fs.SetOutput(stderr)
	chip := fs.String("chip", "", "the NAND chip (an mtd: flash spec)")
	image := fs.String("image", "", "the image file or disk")
	size := fs.Int64("size", 0, "bytes to load or save (0: the whole chip)")
	var flips []int64
	fs.Func("flip", "load: after loading, flip a bit of the page at `OFFSET` (the first 1 bit from there) behind the ECC (repeatable)", func(s string) error {
		n, err := strconv.ParseInt(s, 0, 64)
		flips = append(flips, n)
		return err
	})
	if done, err := parseFlags(fs, args[1:]); done {
		return err
	}
	sp, err := flashspec.Parse(*chip)
	if err != nil {
		return usageError("guest nand: --chip: %v", err)
	}
	if *image == "" {
		return usageError("guest nand: --image is required")
	}
	if len(flips) > 0 && action != "load" {
		return usageError("guest nand: --flip goes with load")
	}
	f, err := flashspec.Open(sp, nil)
	if err != nil {
		return err
	}
	defer hal.Close(f)
	n := *size
	if n == 0 {
		n = f.Geometry().Size
	}
	var st guest.ImageStats
	if action == "load" {
		img, err := os.Open(*image)
		if err != nil {
			return err
		}
		defer img.Close()
		if st, err = guest.LoadImage(f, img, n); err != nil {
			return err
		}
	} else {
		img, err := os.OpenFile(*image, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		if st, err = guest.SaveImage(f, img, n); err != nil {
			img.Close()
			return err
		}
		if err := img.Sync(); err != nil {
			img.Close()
			return err
		}
		if err := img.Close(); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "%s %s: %d blocks (%d bad), %d pages programmed\n", action, sp.Path(), st.Blocks, st.BadBlocks, st.Pages)
	for _, off := range flips {
		b, err := mtd.InjectBitflip(sp.Path(), off)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "bitflip %s %#x bit %d: the ECC read corrected it, corrected_bits %d -> %d\n", sp.Path(), b.Off, b.Bit, b.CorrectedBefore, b.CorrectedAfter)
	}
	return nil
}
