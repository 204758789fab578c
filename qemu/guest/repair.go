package guest

import (
	"errors"
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// repairRegion rewrites, with its preset default, every type whose record
// on the primary's information region (chip f, layout l) does not decode,
// and returns them. A power cut during the CMC's own writes can leave a
// record torn; the CMC's service rewrites the default at start, as a real
// CMC does.
func repairRegion(f hal.Flash, l engine.Layout) ([]info.Type, error) {
	region, err := info.OpenRegion(f, l.InfoOff, l.InfoSize)
	if err != nil {
		return nil, err
	}
	var repaired []info.Type
	for _, t := range info.All() {
		if _, err := region.Read(t); errors.Is(err, info.ErrCorrupt) {
			if err := region.Write(t, info.Default(t)); err != nil {
				return repaired, fmt.Errorf("rewrite %v: %w", t, err)
			}
			repaired = append(repaired, t)
		} else if err != nil {
			return repaired, err
		}
	}
	return repaired, nil
}
