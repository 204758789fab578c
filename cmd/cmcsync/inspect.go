package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/config"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/internal/chipstate"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/internal/jsonout"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

func init() {
	register(command{name: "inspect", summary: "decode a flash: image header, information region, backup store", run: runInspect})
}

// runInspect decodes one chip: cmcsync inspect --flash SPEC [--json]. It
// exits 1 when something is damaged or undecodable.
func runInspect(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("inspect", stderr,
		"usage: cmcsync inspect --flash SPEC [--config FILE] [--info-size N] [--json]",
		"\nDecodes a chip without writing: the firmware image header, the information",
		"region (with the digests a sync would record) and the backup store (committed",
		"generation, per-type sizes and digests, configuration, role, interrupted round,",
		"damage). The region's size is read from its header. Exits 1 if anything is damaged.")
	spec := fs.String("flash", "", "the flash to decode: "+flashspec.Usage)
	cf := addChipFlags(fs)
	verify := fs.Bool("verify", true, "read every committed chunk and check its digest")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if done, err := parseFlags(fs, args); done {
		return err
	}
	if err := cf.load(fs); err != nil {
		return err
	}
	if *spec == "" && *cf.config != "" {
		return usageError("inspect: --flash is required: --config gives the layout, not the chip to decode%s", configChips(*cf.config))
	}
	s, err := flashFlag("inspect", *spec)
	if err != nil {
		return err
	}
	places, err := cf.places("inspect")
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// inspect only reads: it never creates the image file that
	// flashspec.Open would create erased (a mistyped path would otherwise
	// leave a blank chip-sized file behind and be reported as damage).
	if s.Backend == flashspec.Sim && s.File != "" {
		if _, err := os.Stat(s.File); errors.Is(err, os.ErrNotExist) {
			return usageError("inspect: --flash: image file %s does not exist: inspect only reads (give an existing image file, or leave file= out to decode a blank chip in memory)", s.File)
		}
	}
	// Loaded read-only: no wear file is created beside the image, nothing
	// is locked or written.
	f, err := flashspec.OpenReadOnly(s, nil)
	if err != nil {
		return fmt.Errorf("inspect: %w", err)
	}
	defer func() { err = errors.Join(err, hal.Close(f)) }()
	// One chip: resolved as a pair of it with itself.
	l, _, err := chipstate.PairLayout([2]hal.Flash{f, f}, [2]flashspec.Spec{s, s}, places, false)
	if err != nil {
		return fmt.Errorf("inspect: %w", err)
	}
	in := engine.Inspect(f, l, *verify)
	if *asJSON {
		if err := writeJSON(stdout, jsonout.FromInspection(in)); err != nil {
			return err
		}
	} else {
		printInspection(stdout, &in)
	}
	if in.StoreError != "" || in.ImageError != "" || in.InfoError != "" || (in.Store != nil && len(in.Store.Damage) > 0) {
		return &exitError{code: 1, msg: "inspect: damage found (see above)"}
	}
	return nil
}

func printInspection(w io.Writer, in *engine.Inspection) {
	fmt.Fprintf(w, "device: %s\n", in.Geometry)
	l := in.Layout
	fmt.Fprintf(w, "layout: image %#x+%s, info %#x+%s, store %#x+%s\n", l.ImageOff, hal.FormatSize(l.ImageSize), l.InfoOff, hal.FormatSize(l.InfoSize), l.StoreOff, hal.FormatSize(l.StoreSize))
	switch {
	case in.Image != nil:
		fmt.Fprintf(w, "image: version %s, %d bytes, crc %#08x, built %s\n", in.Image.Version, in.Image.Size, in.Image.CRC, in.Image.Built.Format("2006-01-02 15:04:05"))
	case in.ImageError != "":
		fmt.Fprintf(w, "image: DAMAGED: %s\n", in.ImageError)
	default:
		// Places given (docs/LAYOUT.md): no cmcsync image area to decode.
		fmt.Fprintln(w, "image: none in this layout (no cmcsync image area; --image-id names the image identity, default none)")
	}
	if in.InfoError != "" {
		fmt.Fprintf(w, "info: DAMAGED: %s\n", reportRegionHint(in.InfoError, in.InfoErr, regionHintPair))
	}
	for _, t := range in.Info {
		if t.Error != "" {
			fmt.Fprintf(w, "info %-10s DAMAGED: %s\n", t.Name, t.Error)
			continue
		}
		fmt.Fprintf(w, "info %-10s %8d bytes seq %-6d digest %s\n", t.Name, t.Size, t.Seq, t.Digest)
	}
	if in.Store == nil {
		fmt.Fprintf(w, "store: UNREADABLE: %s\n", in.StoreError)
		return
	}
	s := in.Store
	fmt.Fprintf(w, "store: chip id %d, pair %#x, format v%d, journal area %d epoch %d (%d records), %d data blocks\n",
		s.Superblock.ChipID, s.Superblock.PairID, s.Superblock.Version, s.Journal.Area, s.Journal.Epoch, s.Journal.Records, s.Superblock.DataBlocks)
	if c := s.Copies; c.Differ() {
		for i, cp := range c.Copies {
			fmt.Fprintf(w, "superblock copy %d at %#x: %s\n", i, cp.Off, describeCopy(cp))
		}
		fmt.Fprintf(w, "superblock: copy %d used: %s\n", c.Used, c.Why)
	}
	active := "chip 0 (primary image)"
	if s.Role.Active != 0 {
		active = "chip 1 (backup image)"
	}
	if s.Journal.Torn {
		fmt.Fprintln(w, "journal: ends with a torn record (a write cut by power loss, or damage to the last record): ignored")
	}
	fmt.Fprintf(w, "role: epoch %d, active %s\n", s.Role.Epoch, active)
	fmt.Fprintf(w, "generation: %d, synced %s, next %s, image version %q, upgrade choice %s\n", s.Generation,
		inspectTime(s.Time), inspectTime(s.NextSync), s.ImageVersion, engine.UpgradeChoice(s.UpgradeChoice))
	c := engine.FromStoreConfig(s.Config)
	fmt.Fprintf(w, "config: types %s, interval %v, threshold %v, verify %v, group %d, retry-at-once %v\n",
		info.FormatList(c.Types), c.Interval, c.Threshold, c.Verify, c.GroupSize, c.RetryAtOnce)
	for _, t := range s.Types {
		fmt.Fprintf(w, "store %-10s %8d bytes seq %-6d digest %s (%d chunks)\n", info.Type(t.Type), t.Size, t.Seq, t.Digest, t.Chunks)
	}
	if s.Interrupted != nil {
		fmt.Fprintf(w, "interrupted round: generation %d, %d blocks, not purged yet\n", s.Interrupted.Generation, len(s.Interrupted.Blocks))
	}
	if s.LastPurged != nil {
		fmt.Fprintf(w, "last purged round: generation %d, %d blocks\n", s.LastPurged.Generation, len(s.LastPurged.Blocks))
	}
	if len(s.Damage) > 0 {
		fmt.Fprintf(w, "damage:\n  %s\n", strings.Join(s.Damage, "\n  "))
	} else if s.Verified {
		fmt.Fprintln(w, "verified: every committed chunk matches its digest")
	}
	_ = store.FormatVersion
}

// inspectTime is a store's time as inspect prints it: "never" for a time
// that never happened (a store before its first commit), as --json leaves
// it out, rather than Go's zero time 0001-01-01 00:00:00.
func inspectTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Format("2006-01-02 15:04:05")
}

// describeCopy is one superblock copy as inspect prints it.
func describeCopy(c store.SuperblockCopy) string {
	var what string
	if sb := c.Superblock; sb != nil {
		what = fmt.Sprintf(": chip id %d, pair %#x, format v%d, formatted %s", sb.ChipID, sb.PairID, sb.Version, sb.Formatted.UTC().Format(time.RFC3339))
	}
	if c.Error != "" {
		what += " (" + c.Error + ")"
	}
	return string(c.State) + what
}

// configChips names the chips of the configuration file at path (already
// loaded once, so it decodes) as the --flash values that decode them, e.g.
// " (its chips: --flash mtd:name=cmcsync0 or --flash mtd:name=cmcsync1)";
// "" if it names none.
func configChips(path string) string {
	f, err := config.Load(path)
	if err != nil {
		return ""
	}
	var chips []string
	for _, name := range []string{"primary", "backup"} {
		if s, ok := f.Lookup(name); ok {
			chips = append(chips, "--flash "+s.Value)
		}
	}
	if len(chips) == 0 {
		return ""
	}
	return " (its chips: " + strings.Join(chips, " or ") + ")"
}
