package engine

import (
	"errors"
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// Layout places the firmware image area, the primary information region
// and the backup store on a chip; both chips of a pair use the same
// layout. All fields are erase-block aligned; the three ranges may come in
// any order but must not overlap.
//
// The image area (ImageOff, ImageSize) is where Format writes cmcsync's
// generated firmware image with its CMCFWIMG header: only for chips
// cmcsync formats whole (the simulator), with the HeaderIdentity image
// source, and then at offset 0. A real chip's layout has ImageSize 0 (see
// NewLayout): cmcsync writes nothing outside the information region and
// the store, and reads the running image's identity where
// Options.Image says.
type Layout struct {
	ImageOff, ImageSize int64
	InfoOff, InfoSize   int64
	StoreOff, StoreSize int64
}

// ErrLayout is wrapped by every error of Check and NewLayout: a layout
// that does not fit the chip.
var ErrLayout = errors.New("bad layout")

// DefaultLayout lays out a chip of geometry g: the image at 0 (1/16 of the
// chip, at most 1 MiB), then the information region of infoSize bytes (0:
// a quarter of the chip, at most 8 MiB, or less when the store in the rest
// could not hold a region that large: the largest that it can hold), then
// the store in the rest. A size given that does not fit is an error.
func DefaultLayout(g hal.Geometry, infoSize int64) (Layout, error) {
	if err := g.Validate(); err != nil {
		return Layout{}, err
	}
	e := g.EraseSize
	img := min(g.Size/16, 1<<20) / e * e
	img = max(img, e)
	at := func(size int64) Layout {
		l := Layout{ImageOff: 0, ImageSize: img, InfoOff: img, InfoSize: size, StoreOff: img + size}
		l.StoreSize = g.Size - l.StoreOff
		return l
	}
	if infoSize != 0 {
		l := at(infoSize)
		if err := l.Check(g); err != nil {
			return Layout{}, err
		}
		return l, nil
	}
	quarter := max(min(g.Size/4, 8<<20)/e, 1)
	l := at(quarter * e)
	err := l.Check(g)
	if err == nil {
		return l, nil
	}
	// The largest region of whole blocks below the quarter that fits: a
	// region has a minimum size of its own, so the sizes that fit are a
	// window, not a prefix; scanning down from the quarter finds its top.
	// (Only chips the quarter does not fit get here: a few MiB, a few
	// hundred blocks.)
	for blocks := quarter - 1; blocks > 0; blocks-- {
		if l := at(blocks * e); l.Check(g) == nil {
			return l, nil
		}
	}
	return Layout{}, err // the quarter's error: what would fit
}

// NewLayout returns the layout of a real chip of geometry g: the
// information region of infoSize bytes at infoOff and the store of
// storeSize bytes at storeOff (chip offsets, as a configuration file or
// the partitions of /proc/mtd give them), no image area. A storeSize of 0
// takes the store to the end of the chip. The error (wrapping ErrLayout)
// names the field at fault and what would fit.
func NewLayout(g hal.Geometry, infoOff, infoSize, storeOff, storeSize int64) (Layout, error) {
	if err := g.Validate(); err != nil {
		return Layout{}, fmt.Errorf("%w: %w", ErrLayout, err)
	}
	if storeSize == 0 && storeOff >= 0 && storeOff < g.Size {
		storeSize = g.Size - storeOff
	}
	l := Layout{InfoOff: infoOff, InfoSize: infoSize, StoreOff: storeOff, StoreSize: storeSize}
	if err := l.Check(g); err != nil {
		return Layout{}, err
	}
	return l, nil
}

// maxChunks is how many chunks an information region of size bytes can
// produce: a block each, plus a partial one per type.
func (l Layout) maxChunks(e int64) int { return int(l.InfoSize/e) + info.NumTypes }

// span is one named range of a layout.
type span struct {
	name      string
	off, size int64
}

func (l Layout) spans() []span {
	return []span{{"image area", l.ImageOff, l.ImageSize}, {"information region", l.InfoOff, l.InfoSize}, {"store", l.StoreOff, l.StoreSize}}
}

// Check reports whether l fits g: every field a non-negative multiple of
// the erase size, an image area (if any) at offset 0, a non-empty
// information region and store, each range inside the chip, no two
// overlapping, an information region the info package can lay out, and a
// store big enough for twice the region. Errors wrap ErrLayout.
func (l Layout) Check(g hal.Geometry) error {
	e := g.EraseSize
	if e <= 0 {
		return fmt.Errorf("%w: %s has no erase size", ErrLayout, g.Name)
	}
	for _, s := range l.spans() {
		if s.off < 0 || s.size < 0 || s.off%e != 0 || s.size%e != 0 {
			return fmt.Errorf("%w: %s %#x+%#x: offset and size must be non-negative multiples of the erase size %s", ErrLayout, s.name, s.off, s.size, hal.FormatSize(e))
		}
		if s.off+s.size > g.Size {
			return fmt.Errorf("%w: %s %#x+%s ends past the end of %s (%s)", ErrLayout, s.name, s.off, hal.FormatSize(s.size), g.Name, hal.FormatSize(g.Size))
		}
	}
	switch {
	case l.ImageSize > 0 && l.ImageOff != 0:
		return fmt.Errorf("%w: the image area must start at offset 0 (its CMCFWIMG header is read there), not %#x", ErrLayout, l.ImageOff)
	case l.InfoSize == 0:
		return fmt.Errorf("%w: the information region is empty", ErrLayout)
	case l.StoreSize == 0:
		return fmt.Errorf("%w: the store is empty", ErrLayout)
	}
	ss := l.spans()
	for i := range ss {
		for j := i + 1; j < len(ss); j++ {
			a, b := ss[i], ss[j]
			if a.size > 0 && b.size > 0 && a.off < b.off+b.size && b.off < a.off+a.size {
				return fmt.Errorf("%w: %s %#x+%s overlaps %s %#x+%s", ErrLayout, a.name, a.off, hal.FormatSize(a.size), b.name, b.off, hal.FormatSize(b.size))
			}
		}
	}
	if _, err := info.PlanRegion(l.InfoSize, e); err != nil {
		return fmt.Errorf("%w: information region: %w", ErrLayout, err)
	}
	if _, err := store.PlanLayout(g, l.StoreSize, store.FormatOptions{MaxChunks: l.maxChunks(e)}); err != nil {
		return fmt.Errorf("%w: store of %s for an information region of %s: %w", ErrLayout, hal.FormatSize(l.StoreSize), hal.FormatSize(l.InfoSize), err)
	}
	return nil
}

// checkPair reports whether two chips can be a pair with layout l: both
// given, of the same kind, erase, write and page size, and each fitting l.
func checkPair(chipA, chipB hal.Flash, l Layout) error {
	if chipA == nil || chipB == nil {
		return errors.New("two chips are required")
	}
	ga, gb := chipA.Geometry(), chipB.Geometry()
	if ga.EraseSize != gb.EraseSize || ga.Kind != gb.Kind || ga.PageSize != gb.PageSize || ga.WriteSize != gb.WriteSize {
		return fmt.Errorf("chips differ: %v and %v (both chips must have the same kind, erase, write and page size)", ga, gb)
	}
	for _, g := range []hal.Geometry{ga, gb} {
		if err := l.Check(g); err != nil {
			return fmt.Errorf("%s: %w", g.Name, err)
		}
	}
	return nil
}
