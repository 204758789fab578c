package engine

import (
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/store"
)

// Telling a format cut by a power loss from data, for a start that must
// finish the one and never touch the other. Format marks both chips'
// format intents before it writes anything else, so after a cut every
// store range it touched says so (store.Probe: FormatInterrupted, or a
// store of generation 0 once that chip's format ended).

// FormatLosesNothing returns nil if formatting the store range of layout l
// on f destroys no data: store.Probe finds it blank, holding a cut
// format's intent (what it held before is gone already), or a store whose
// newest generation is 0 (a format commits no data). Otherwise the error
// says what the range holds (a committed generation, a store that does not
// read back, data that is no cmcsync store's). It only reads.
func FormatLosesNothing(f hal.Flash, l Layout) error {
	name := f.Geometry().Name
	p, err := store.Probe(f, l.StoreOff, l.StoreSize)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	switch p.State {
	case store.Blank, store.FormatInterrupted:
		return nil
	case store.Formatted:
		rep, err := store.Inspect(f, l.StoreOff, l.StoreSize, false)
		if err != nil {
			return fmt.Errorf("%s holds a store that does not read back (%v)", name, err)
		}
		if rep.Generation > 0 {
			return fmt.Errorf("%s holds generation %d", name, rep.Generation)
		}
		return nil
	}
	return fmt.Errorf("%s holds data: %s", name, p.Detail)
}

// FormatWasCut reports whether the chips themselves say a format was cut
// before its end, so that a start may format them again without being
// told: no chip holds data a format would destroy (FormatLosesNothing),
// and the pair is neither blank on both chips (nothing says a format was
// begun) nor a finished store on both. So a format intent on either chip
// (beside a store of generation 0, another intent or a blank range) is a
// cut format; a store beside a blank range is not (Format writes both
// intents first, so that is a replaced chip: reseed). It only reads.
func FormatWasCut(chipA, chipB hal.Flash, l Layout) bool {
	blank, stores := 0, 0
	chips := []hal.Flash{chipA, chipB}
	for _, f := range chips {
		p, err := store.Probe(f, l.StoreOff, l.StoreSize)
		if err != nil {
			return false
		}
		switch p.State {
		case store.Blank:
			blank++
		case store.Formatted:
			stores++
		}
	}
	if blank == 2 || stores == 2 {
		return false // the common start: no need to read the journals
	}
	if blank == 1 && stores == 1 {
		// Format marks both format intents before it formats either
		// store, so no cut leaves a finished store beside a blank range:
		// that is a replaced chip (cmcsync reseed formats its store
		// only). Formatting both again would erase the other chip's
		// information region, the CMC's data.
		return false
	}
	for _, f := range chips {
		if FormatLosesNothing(f, l) != nil {
			return false
		}
	}
	return true
}
