package engine

import (
	"fmt"

	"github.com/cmcsync/cmcsync/sync/store"
)

// purgeRound purges what an unfinished round left on the backup store, if
// its intent was written (see purgeAndReinit), and notes the purged blocks
// in the round's report.
func (e *Engine) purgeRound(rs *roundState) error {
	in := rs.backup.Interrupted()
	if in == nil {
		return nil
	}
	rs.report.PurgedBlocks = len(in.Blocks)
	return e.purgeAndReinit(rs.backup, in)
}

// purgeAndReinit is the purge and reinit steps of the method
// (docs/DESIGN.md, The method) for the interrupted round in on s: erase
// the blocks its intent names, read them back erased and write the purged
// mark (store.Store.Purge), then reinitialise the configuration from the
// last committed generation.
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
	e.refreshNewestState()
	var cfg Config
	if e.opts.Mutant == ReinitInFlight { // MUTANT: reinit from the round in flight
		cfg = FromStoreConfig(in.Config)
		_ = s.StageConfig(in.Config)
	} else {
		cfg = FromStoreConfig(e.newest().StateRef().Config)
	}
	e.mu.Lock()
	e.config = cfg
	e.mu.Unlock()
	e.event(EventReinit, e.newestState.Generation, fmt.Sprintf("configuration reinitialised from generation %d: %s", e.newestGeneration(), describeConfig(cfg)))
	return nil
}
