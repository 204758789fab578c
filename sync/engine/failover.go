package engine

import (
	"errors"
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/store"
)

// failover makes the backup chip the active one, durably (a role record in
// its store, which later commits copy to the other chip).
func (e *Engine) failover(rs *roundState, wait time.Duration) error {
	old := e.role
	r := store.Role{Epoch: old.Epoch + 1, Active: 1 - old.Active, RestorePending: e.opts.Mutant != FailoverNoRestore} // MUTANT: the restore recorded as done
	err := rs.backup.SetRole(r)
	if err != nil && !errors.Is(err, hal.ErrPowerLoss) {
		// One failed erase or program of the backup's journal must not
		// keep the engine on a primary that stopped answering: a failed
		// program left the journal's tail in the next block, and the
		// journal erases a block again before it writes there. Once more.
		e.event(EventError, rs.report.Generation, "failover: "+err.Error()+" (retrying)")
		err = rs.backup.SetRole(r)
	}
	if err != nil {
		e.event(EventError, rs.report.Generation, "failover: "+err.Error())
		return fmt.Errorf("failover: %w", err)
	}
	e.mu.Lock()
	e.role = r
	e.counters.Failovers++
	e.primaryErrors = nil // about the chip that is no longer the primary
	e.mu.Unlock()
	e.refreshNewestState() // the version the new active chip's image is held to
	e.event(EventFailover, rs.report.Generation, fmt.Sprintf("wait-response %v exceeds threshold %v: %s is now active", wait, rs.config.Threshold, e.chips[r.Active].Geometry().Name))
	return nil
}
