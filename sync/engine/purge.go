package engine

import (
	"fmt"

	"github.com/cmcsync/cmcsync/sync/store"
)

// purgeAndReinit is steps 4.4 and 4.5 of the method.
func (e *Engine) purgeAndReinit(s *store.Store, in *store.Interrupted) error {
	res, err := s.Purge()
	e.mu.Lock()
	e.counters.Purges++
	e.mu.Unlock()
	if err != nil {
		e.event(EventError, in.Generation, "purge failed: "+err.Error())
		return fmt.Errorf("purge generation %d: %w", in.Generation, err)
	}
	e.event(EventPurge, in.Generation, fmt.Sprintf("%d blocks of %s erased", len(res.Blocks), s.Flash().Geometry().Name))
	e.event(EventPurgeVerified, in.Generation, fmt.Sprintf("%d blocks read back erased; purged mark written", len(res.Blocks)))
	e.refreshSnap()
	var cfg Config
	if e.opts.Mutant == ReinitInFlight { // MUTANT: reinit from the round in flight
		cfg = FromStoreConfig(in.Config)
		_ = s.StageConfig(in.Config)
	} else {
		cfg = FromStoreConfig(e.newest().StateRef().Config)
	}
	e.mu.Lock()
	e.cfg = cfg
	e.mu.Unlock()
	e.event(EventReinit, e.snap.Generation, fmt.Sprintf("configuration reinitialised from generation %d: %s", e.snapGen(), describeConfig(cfg)))
	return nil
}
