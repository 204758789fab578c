package daemon

import (
	"errors"
	"fmt"

	"github.com/cmcsync/cmcsync/internal/chipstate"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// ErrPlaces is wrapped by Open's error when Options.Places do not place
// the engine on the chips (chipstate.ErrPlace).
var ErrPlaces = errors.New("bad chip places")

// placeChips sets the engine's layout and image identity source in opts
// (and d.layout) from Options.Places, resolved as every command resolves
// them (chipstate.PairLayout): planned from the places alone for a
// format, else with the region headers read on the raw chips, so a fault
// schedule counts none of these reads. It only reads.
func (d *Daemon) placeChips(specs [2]flashspec.Spec, opts *engine.Options, format bool) error {
	l, id, err := chipstate.PairLayout(d.raw, specs, d.opts.Places, format)
	if err != nil {
		if errors.Is(err, chipstate.ErrPlace) {
			return fmt.Errorf("%w: %w", ErrPlaces, err)
		}
		return err
	}
	d.layout = l
	opts.Layout = l
	if id != nil {
		opts.Image = id
	}
	return nil
}
