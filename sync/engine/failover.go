package engine

import (
	"errors"
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// restoreActive writes the newest committed generation into the active
// chip's information region (the image that now runs needs the synced
// information), then clears RestorePending.
func (e *Engine) restoreActive() error {
	act := int(e.role.Active)
	src := e.stores[act]
	if src == nil || src.StateRef().Generation < e.newest().StateRef().Generation {
		src = e.newest()
	}
	if src == nil {
		return errors.New("restore: no store")
	}
	chip := e.chips[act]
	l := e.opts.Layout
	region, err := info.OpenRegion(chip, l.InfoOff, l.InfoSize)
	if err != nil {
		if err := info.FormatRegion(chip, l.InfoOff, l.InfoSize); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		if region, err = info.OpenRegion(chip, l.InfoOff, l.InfoSize); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	var restored []string
	for _, ts := range src.StateRef().Types {
		p, err := src.ReadPayload(ts.Type)
		if err != nil {
			return fmt.Errorf("restore %v: %w", info.Type(ts.Type), err)
		}
		if err := region.Write(info.Type(ts.Type), p); err != nil {
			return fmt.Errorf("restore %v: %w", info.Type(ts.Type), err)
		}
		restored = append(restored, info.Type(ts.Type).String())
	}
	r := e.role
	r.RestorePending = false
	if s := e.stores[act]; s != nil && s.Interrupted() == nil {
		if err := s.SetRole(r); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	e.mu.Lock()
	e.role = r
	e.mu.Unlock()
	e.event(EventRestore, src.StateRef().Generation, fmt.Sprintf("information region of %s restored from generation %d: %v", chip.Geometry().Name, src.StateRef().Generation, restored))
	return nil
}

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
	e.event(EventFailover, rs.report.Generation, fmt.Sprintf("wait-response %v exceeds threshold %v: %s is now active", wait, rs.config.Threshold, e.chips[r.Active].Geometry().Name))
	return nil
}
