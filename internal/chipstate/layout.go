package chipstate

import (
	"errors"
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// Places are where the user (flags or configuration file) puts the
// information region and the store on a chip, in one of two forms:
//
//   - offsets and sizes (--info-offset, --info-size, --store-offset,
//     --store-size); zero fields take the defaults: the region right after
//     the firmware image area (engine.DefaultLayout), of the size its
//     header records (else a quarter of the chip, at most 8 MiB), the store
//     from the region's end to the end of the chip;
//   - Info and Store (--info, --store), each a PLACE (PlaceRange): a
//     partition of the chip by name, or OFF+SIZE; both or neither.
//
// Image is the image identity spec (Identity; --image-id). PairLayout
// turns Places into the engine's layout and identity source: every
// command resolves them the same way.
type Places struct {
	InfoOff, InfoSize   int64
	StoreOff, StoreSize int64
	Info, Store         string
	Image               string
}

// offsets reports whether any offset or size is given.
func (p Places) offsets() bool {
	return p.InfoOff != 0 || p.InfoSize != 0 || p.StoreOff != 0 || p.StoreSize != 0
}

// Check refuses places given in both forms, or one named without the
// other (errors wrap ErrPlace).
func (p Places) Check() error {
	switch {
	case p.offsets() && (p.Info != "" || p.Store != ""):
		return placeErrorf("give the places as --info and --store, or as offsets and sizes (--info-offset, ...), not both")
	case (p.Info == "") != (p.Store == ""):
		return placeErrorf("give both the information region's and the store's place, or neither (the default layout)")
	}
	return nil
}

// onChip returns p with Info and Store resolved to offsets and sizes on
// a chip with partitions parts (the names stay, marking the offsets as
// given even where one is 0).
func (p Places) onChip(parts []Partition) (Places, error) {
	if p.Info == "" {
		return p, nil
	}
	var err error
	if p.InfoOff, p.InfoSize, err = PlaceRange(parts, p.Info); err != nil {
		return p, fmt.Errorf("information region: %w", err)
	}
	if p.StoreOff, p.StoreSize, err = PlaceRange(parts, p.Store); err != nil {
		return p, fmt.Errorf("store: %w", err)
	}
	return p, nil
}

// ErrSizeMismatch is wrapped by Resolve's error when a size given differs
// from the one the region header records.
var ErrSizeMismatch = errors.New("information region size differs from the one its header records")

// ErrEraseMismatch is wrapped by Resolve's error when the chip's erase
// size differs from the one the region header records: the chip is
// opened with another part or erase model than it was laid out with.
var ErrEraseMismatch = errors.New("wrong erase model")

// Found is what Resolve read from the chip.
type Found struct {
	// RegionSize is the size the information region's header records; 0
	// when there is no valid header at the region's offset.
	RegionSize int64
}

// defaultInfoOff is where engine.DefaultLayout puts the information
// region: after the firmware image area, 1/16 of the chip, at most 1 MiB,
// at least one erase block.
func defaultInfoOff(g hal.Geometry) int64 {
	e := g.EraseSize
	return max(min(g.Size/16, 1<<20)/e*e, e)
}

// Resolve returns the layout of chip f for places p, reading the region
// header at the region's offset: a header's recorded size is used when p
// gives none, and a size given that differs from it is an error wrapping
// ErrSizeMismatch (nothing is written either way).
func Resolve(f hal.Flash, p Places) (engine.Layout, Found, error) {
	g := f.Geometry()
	if err := g.Validate(); err != nil {
		return engine.Layout{}, Found{}, err
	}
	infoOff := p.InfoOff
	if infoOff == 0 && p.Info == "" {
		infoOff = defaultInfoOff(g)
	}
	var found Found
	if h, err := ReadRegionHeader(f, infoOff); err == nil {
		if h.EraseSize != g.EraseSize {
			return engine.Layout{}, found, fmt.Errorf("%w: the information region at %#x was laid out for %s erase blocks, the chip has %s (open it with the part and erase model it was made with: a simulated chip's part and erase=4k|64k; an MTD device as the kernel exposed it then, 4 KiB sectors or 64 KiB blocks; nothing was written)",
				ErrEraseMismatch, infoOff, hal.FormatSize(h.EraseSize), hal.FormatSize(g.EraseSize))
		}
		found.RegionSize = h.Size
		if p.InfoSize != 0 && p.InfoSize != h.Size {
			return engine.Layout{}, found, fmt.Errorf("%w: the region at %#x records %s, the size given is %s (leave the size out to use the recorded one)", ErrSizeMismatch, infoOff, hal.FormatSize(h.Size), hal.FormatSize(p.InfoSize))
		}
	}
	if p.InfoSize == 0 {
		p.InfoSize = found.RegionSize
	}
	l, err := Plan(g, p)
	return l, found, err
}

// Plan lays out a chip of geometry g from places p alone, reading nothing
// (for a format): zero places take the defaults of Places.
func Plan(g hal.Geometry, p Places) (engine.Layout, error) {
	if p.InfoOff == 0 && p.StoreOff == 0 && p.StoreSize == 0 && p.Info == "" {
		return engine.DefaultLayout(g, p.InfoSize)
	}
	if err := g.Validate(); err != nil {
		return engine.Layout{}, err
	}
	if p.Info != "" {
		// Named places: exactly the ranges they name.
		return engine.NewLayout(g, p.InfoOff, p.InfoSize, p.StoreOff, p.StoreSize)
	}
	infoOff, size := p.InfoOff, p.InfoSize
	if infoOff == 0 {
		infoOff = defaultInfoOff(g)
	}
	if size == 0 {
		e := g.EraseSize
		size = min(g.Size/4, 8<<20) / e * e
	}
	// No image area: with places given, nothing is written outside the
	// information region and the store (the engine then takes no image
	// identity from a header of its own).
	l := engine.Layout{InfoOff: infoOff, InfoSize: size, StoreOff: p.StoreOff, StoreSize: p.StoreSize}
	if l.StoreOff == 0 {
		l.StoreOff = infoOff + size
	}
	if l.StoreSize == 0 {
		l.StoreSize = g.Size - l.StoreOff
	}
	if err := l.Check(g); err != nil {
		return engine.Layout{}, err
	}
	return l, nil
}

// ResolvePair resolves both chips' layouts and returns the one they share:
// a region header on either chip gives the size; headers that disagree are
// an error.
func ResolvePair(a, b hal.Flash, p Places) (engine.Layout, error) {
	la, fa, err := Resolve(a, p)
	if err != nil {
		return engine.Layout{}, fmt.Errorf("%s: %w", a.Geometry().Name, err)
	}
	lb, fb, err := Resolve(b, p)
	if err != nil {
		return engine.Layout{}, fmt.Errorf("%s: %w", b.Geometry().Name, err)
	}
	switch {
	case fa.RegionSize != 0 && fb.RegionSize != 0 && fa.RegionSize != fb.RegionSize:
		return engine.Layout{}, fmt.Errorf("%w: %s records %s, %s records %s (the two chips are not one pair: check --primary and --backup, or the configuration file's chips)", ErrSizeMismatch, a.Geometry().Name, hal.FormatSize(fa.RegionSize), b.Geometry().Name, hal.FormatSize(fb.RegionSize))
	case fb.RegionSize != 0 && fa.RegionSize == 0:
		// Only the backup's region is intact: use its size on both.
		p.InfoSize = fb.RegionSize
		la, _, err = Resolve(a, p)
		if err != nil {
			return engine.Layout{}, fmt.Errorf("%s: %w", a.Geometry().Name, err)
		}
		return la, nil
	}
	_ = lb
	return la, nil
}

// ReadRegionHeader decodes the information region header at off.
func ReadRegionHeader(f hal.Flash, off int64) (info.RegionHeader, error) {
	g := f.Geometry()
	if off < 0 || off+info.RegionHeaderSize > g.Size {
		return info.RegionHeader{}, fmt.Errorf("%w: region offset %#x outside the chip", info.ErrCorrupt, off)
	}
	b := make([]byte, info.RegionHeaderSize)
	if _, err := f.ReadAt(b, off); err != nil {
		return info.RegionHeader{}, err
	}
	return info.DecodeRegionHeader(b)
}
