package engine

import (
	"fmt"

	"github.com/cmcsync/cmcsync/sync/info"
)

// UpdateActiveRegion calls fn with the active chip's information region,
// under the round lock (and Options.PrimaryLock): a CMC service's write
// made through it never interleaves with a round, a failover or a
// failback, and always lands on the chip active at that moment. fn must
// not call the engine's round methods. The region's header is checked
// when it is opened (a region that does not open is an error, and fn is
// not called).
func (e *Engine) UpdateActiveRegion(fn func(*info.Region) error) error {
	if err := e.readOnly("update the active information region"); err != nil {
		return err
	}
	e.lockRound()
	defer e.unlockRound()
	chip := e.chips[e.role.Active]
	l := e.opts.Layout
	r, err := info.OpenRegion(chip, l.InfoOff, l.InfoSize)
	if err != nil {
		return fmt.Errorf("the active chip's information region: %w", err)
	}
	return fn(r)
}
