package daemon

import (
	"errors"
	"fmt"

	"github.com/cmcsync/cmcsync/internal/chipstate"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/internal/partlayout"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// ErrPlaces is wrapped by Open's error when Options.Info, Store or Image
// do not place the engine on the chips.
var ErrPlaces = errors.New("bad chip places")

// placeChips sets the engine's layout and image identity source in opts
// (and d.layout) from Options.Info, Store and Image: the default layout
// without places, else the places resolved on each chip (partitions by
// name on MTD chips), which must give both chips one layout. Without
// places the layout comes from Options.Places: for a format planned from
// them alone, else resolved from the chips' region headers (the size a
// region records is used; chipstate.ResolvePair), read on the raw chips so
// a fault schedule counts none of these reads. It only reads.
func (d *Daemon) placeChips(specs [2]flashspec.Spec, opts *engine.Options, format bool) error {
	o := d.opts
	var parts [2][]partlayout.Partition
	for i, s := range specs {
		if s.Backend == flashspec.MTD && (o.Info != "" || o.Image != "") {
			p, err := partlayout.ChipPartitions("", s.Device)
			if err != nil {
				return fmt.Errorf("%w: %s: %w", ErrPlaces, s, err)
			}
			parts[i] = p
		}
	}
	switch {
	case o.Places != (chipstate.Places{}) && (o.Info != "" || o.Store != ""):
		return fmt.Errorf("%w: give the places as --info and --store, or as offsets and sizes (--info-offset, ...), not both", ErrPlaces)
	case o.Info == "" && o.Store == "":
		var l engine.Layout
		var err error
		if format {
			l, err = chipstate.Plan(d.raw[0].Geometry(), o.Places)
		} else {
			l, err = chipstate.ResolvePair(d.raw[0], d.raw[1], o.Places)
		}
		if err != nil {
			return err
		}
		d.layout = l
	case o.Info == "" || o.Store == "":
		return fmt.Errorf("%w: give both the information region's and the store's place, or neither (the default layout)", ErrPlaces)
	default:
		var ls [2]engine.Layout
		for i := range 2 {
			l, err := partlayout.Layout(d.chips[i].Geometry(), parts[i], o.Info, o.Store)
			if err != nil {
				return fmt.Errorf("%w: %s: %w", ErrPlaces, specs[i], err)
			}
			ls[i] = l
		}
		if ls[0] != ls[1] {
			return fmt.Errorf("%w: the places give the chips different layouts (%s: %+v; %s: %+v): both chips of a pair use one layout", ErrPlaces, specs[0], ls[0], specs[1], ls[1])
		}
		d.layout = ls[0]
	}
	opts.Layout = d.layout
	if o.Image == "" {
		return nil // the engine's default: the header with an image area, else none
	}
	var ids [2]engine.ImageIdentity
	for i := range 2 {
		id, err := partlayout.Identity(o.Image, parts[i])
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrPlaces, specs[i], err)
		}
		ids[i] = id
	}
	if ids[0] != ids[1] {
		return fmt.Errorf("%w: image identity %q names different places on the two chips", ErrPlaces, o.Image)
	}
	opts.Image = ids[0]
	return nil
}
