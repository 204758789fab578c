package chipstate

import (
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// placeError is an error about the places: it wraps ErrPlace without
// saying so in its text (the caller adds its own words: "bad chip
// places: ...").
type placeError struct{ err error }

func (e placeError) Error() string   { return e.err.Error() }
func (e placeError) Unwrap() []error { return []error{ErrPlace, e.err} }

func placeErrorf(format string, a ...any) error { return placeError{fmt.Errorf(format, a...)} }

// PairLayout is the one resolution of Places, for every command that opens
// a pair (serve, sync, info, upgrade, config): it returns the layout both
// chips share and the image identity source (nil: the engine's default,
// the header with an image area, else none) for chips opened from specs.
//
// Partitions are read from sysfs (ChipPartitions) for an MTD chip when
// p names a place or an image identity. Named places must give both chips
// one layout, exactly the ranges they name (no image area: nothing outside
// them is ever written). With format the layout is planned from the places
// alone (Plan); else each chip's region header is read (ResolvePair): the
// size a region records is used where none is given, and a size given
// that differs is an error wrapping ErrSizeMismatch. Errors about the
// places wrap ErrPlace and name the chip's spec. It only reads.
func PairLayout(chips [2]hal.Flash, specs [2]flashspec.Spec, p Places, format bool) (engine.Layout, engine.ImageIdentity, error) {
	if err := p.Check(); err != nil {
		return engine.Layout{}, nil, err
	}
	var parts [2][]Partition
	for i, s := range specs {
		if s.Backend == flashspec.MTD && (p.Info != "" || p.Image != "") {
			ps, err := ChipPartitions("", s.Device)
			if err != nil {
				return engine.Layout{}, nil, placeErrorf("%s: %w", s, err)
			}
			parts[i] = ps
		}
	}
	l, err := pairLayout(chips, specs, parts, p, format)
	if err != nil {
		return engine.Layout{}, nil, err
	}
	if p.Image == "" {
		return l, nil, nil
	}
	var ids [2]engine.ImageIdentity
	for i := range 2 {
		id, err := Identity(p.Image, parts[i])
		if err != nil {
			return engine.Layout{}, nil, placeErrorf("%s: %w", specs[i], err)
		}
		ids[i] = id
	}
	if ids[0] != ids[1] {
		return engine.Layout{}, nil, placeErrorf("image identity %q names different places on the two chips", p.Image)
	}
	return l, ids[0], nil
}

func pairLayout(chips [2]hal.Flash, specs [2]flashspec.Spec, parts [2][]Partition, p Places, format bool) (engine.Layout, error) {
	if p.Info == "" {
		if format {
			return Plan(chips[0].Geometry(), p)
		}
		return ResolvePair(chips[0], chips[1], p)
	}
	var (
		q  [2]Places
		ls [2]engine.Layout
	)
	for i := range 2 {
		var err error
		if q[i], err = p.onChip(parts[i]); err != nil {
			return engine.Layout{}, placeErrorf("%s: %w", specs[i], err)
		}
		if ls[i], err = Plan(chips[i].Geometry(), q[i]); err != nil {
			return engine.Layout{}, placeErrorf("%s: %w", specs[i], err)
		}
	}
	if ls[0] != ls[1] {
		return engine.Layout{}, placeErrorf("the places give the chips different layouts (%s: %+v; %s: %+v): both chips of a pair use one layout", specs[0], ls[0], specs[1], ls[1])
	}
	if format {
		return ls[0], nil
	}
	return ResolvePair(chips[0], chips[1], q[0])
}
