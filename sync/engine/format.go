package engine

import (
	"errors"
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// Format makes two blank (or to-be-wiped) chips usable: on each, an
// information region with default contents and an empty store (generation
// 0 holding Options.Config; chip A active), and, with the HeaderIdentity
// image source only, a generated firmware image (version
// Options.ImageVersion) in the layout's image area. It writes nothing
// outside those ranges and destroys what the chips held in them. It marks
// both stores' format intents (store.MarkFormatIntent) before it writes
// anything else, so that a format cut by a power loss is told from data by
// store.Probe and redone.
func Format(chipA, chipB hal.Flash, opts Options) error {
	if chipA == nil {
		return errors.New("format: chip A is nil")
	}
	if err := opts.fill(chipA.Geometry()); err != nil {
		return fmt.Errorf("format: %w", err)
	}
	if err := checkPair(chipA, chipB, opts.Layout); err != nil {
		return fmt.Errorf("format: %w", err)
	}
	cfg := opts.Config
	if cfg.Types == nil && cfg.Interval == 0 {
		cfg = DefaultConfig()
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("format: %w", err)
	}
	now := opts.now()
	pair := uint64(now.UnixNano()) | 1
	l := opts.Layout
	e := chipA.Geometry().EraseSize
	// Both chips' format intents first: a power loss anywhere in the
	// format then leaves each store range a cut format's (store.Probe:
	// FormatInterrupted) or a store of generation 0, never a range that
	// still looks like what it held before on one chip only.
	for i, chip := range []hal.Flash{chipA, chipB} {
		if opts.Mutant == FormatLateIntent {
			break
		}
		fo := store.FormatOptions{ChipID: uint8(i), PairID: pair, Time: now, MaxChunks: l.maxChunks(e), Config: toStoreConfig(cfg)}
		if err := store.MarkFormatIntent(chip, l.StoreOff, l.StoreSize, fo); err != nil {
			return fmt.Errorf("format %s: %w", chip.Geometry().Name, err)
		}
	}
	for i, chip := range []hal.Flash{chipA, chipB} {
		if _, ok := opts.Image.(HeaderIdentity); ok {
			// Only chips formatted whole carry cmcsync's generated image.
			h := info.ImageHeader{Version: opts.ImageVersion, Size: l.ImageSize - info.ImageHeaderSize, Built: now}
			if err := info.WriteImage(chip, h, pair); err != nil {
				return fmt.Errorf("format %s: %w", chip.Geometry().Name, err)
			}
		}
		if err := info.FormatRegion(chip, l.InfoOff, l.InfoSize); err != nil {
			return fmt.Errorf("format %s: %w", chip.Geometry().Name, err)
		}
		fo := store.FormatOptions{ChipID: uint8(i), PairID: pair, Time: now, MaxChunks: l.maxChunks(e), Config: toStoreConfig(cfg)}
		if err := store.Format(chip, l.StoreOff, l.StoreSize, fo); err != nil {
			return fmt.Errorf("format %s: %w", chip.Geometry().Name, err)
		}
	}
	return nil
}

// FormatAndFill formats both chips (Format, with opts) and then lets fill
// write the primary's (chipA's) information region, opened at the layout
// Format used: opts.Layout, or DefaultLayout(chipA's geometry, 0) when
// opts.Layout is zero. fill may be nil; the region then keeps the defaults
// Format wrote. It returns that layout.
//
// Errors: Format's are returned as Format returns them ("format: ...");
// failing to open the region is wrapped with "open the primary's
// information region"; fill's error is returned unwrapped, so fill adds its
// own context. After a format error the chips may be partly formatted;
// after an error from fill they are formatted and the region holds what
// fill wrote before it failed. FormatAndFill destroys what the chips held
// in the layout's ranges, as Format does.
func FormatAndFill(chipA, chipB hal.Flash, opts Options, fill func(*info.Region) error) (Layout, error) {
	if err := Format(chipA, chipB, opts); err != nil {
		return Layout{}, err
	}
	// The defaults Format applied to its copy of opts; they cannot fail
	// now that Format succeeded with them.
	if err := opts.fill(chipA.Geometry()); err != nil {
		return Layout{}, fmt.Errorf("format: %w", err)
	}
	l := opts.Layout
	region, err := info.OpenRegion(chipA, l.InfoOff, l.InfoSize)
	if err != nil {
		return Layout{}, fmt.Errorf("open the primary's information region: %w", err)
	}
	if fill != nil {
		if err := fill(region); err != nil {
			return Layout{}, err
		}
	}
	return l, nil
}
