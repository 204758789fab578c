package engine

import (
	"errors"
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// Layout places the firmware image, the primary information region and the
// backup store on a chip; both chips of a pair use the same layout. All
// fields are erase-block aligned.
type Layout struct {
	ImageOff, ImageSize int64
	InfoOff, InfoSize   int64
	StoreOff, StoreSize int64
}

// DefaultLayout lays out a chip of geometry g: the image at 0 (1/16 of the
// chip, at most 1 MiB), then the information region of infoSize bytes (0:
// a quarter of the chip, at most 8 MiB), then the store in the rest.
func DefaultLayout(g hal.Geometry, infoSize int64) (Layout, error) {
	if err := g.Validate(); err != nil {
		return Layout{}, err
	}
	e := g.EraseSize
	img := min(g.Size/16, 1<<20) / e * e
	img = max(img, e)
	if infoSize == 0 {
		infoSize = min(g.Size/4, 8<<20) / e * e
	}
	l := Layout{ImageOff: 0, ImageSize: img, InfoOff: img, InfoSize: infoSize, StoreOff: img + infoSize}
	l.StoreSize = g.Size - l.StoreOff
	if err := l.Check(g); err != nil {
		return Layout{}, err
	}
	return l, nil
}

// maxChunks is how many chunks an information region of size bytes can
// produce: a block each, plus a partial one per type.
func (l Layout) maxChunks(e int64) int { return int(l.InfoSize/e) + info.NumTypes }

// Check reports whether l fits g: aligned, in order, not overlapping, an
// information region the info package can lay out, and a store big enough
// for twice the region.
func (l Layout) Check(g hal.Geometry) error {
	e := g.EraseSize
	for _, v := range []int64{l.ImageOff, l.ImageSize, l.InfoOff, l.InfoSize, l.StoreOff, l.StoreSize} {
		if v < 0 || e <= 0 || v%e != 0 {
			return fmt.Errorf("layout %+v: fields must be non-negative multiples of the erase size %d", l, e)
		}
	}
	switch {
	case l.ImageOff != 0:
		return fmt.Errorf("layout: the image must start at offset 0 (its header is the health probe)")
	case l.ImageSize < e || l.InfoOff < l.ImageOff+l.ImageSize || l.StoreOff < l.InfoOff+l.InfoSize:
		return fmt.Errorf("layout %+v: image, information region and store must be in that order without overlap", l)
	case l.StoreOff+l.StoreSize > g.Size || l.InfoSize == 0 || l.StoreSize == 0:
		return fmt.Errorf("layout %+v does not fit %s (%s)", l, g.Name, hal.FormatSize(g.Size))
	}
	if _, err := info.PlanRegion(l.InfoSize, e); err != nil {
		return fmt.Errorf("layout: information region: %w", err)
	}
	if _, err := store.PlanLayout(g, l.StoreSize, store.FormatOptions{MaxChunks: l.maxChunks(e)}); err != nil {
		return fmt.Errorf("layout: %w", err)
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
