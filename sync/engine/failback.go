package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// ErrFailbackRefused is wrapped by every refusal of Failback: nothing was
// written. The reasons below wrap it.
var ErrFailbackRefused = errors.New("failback refused")

// Reasons Failback refuses (each wraps ErrFailbackRefused).
var (
	// ErrAlreadyActive: chip A already runs the active image.
	ErrAlreadyActive = fmt.Errorf("%w: chip A is already the active chip", ErrFailbackRefused)
	// ErrNoGeneration: no store holds a committed generation to re-seed
	// chip A's information region from.
	ErrNoGeneration = fmt.Errorf("%w: no committed generation to re-seed chip A from", ErrFailbackRefused)
	// ErrChipUnhealthy: chip A does not answer reads in time, or carries
	// no image the identity source can read.
	ErrChipUnhealthy = fmt.Errorf("%w: chip A is not healthy", ErrFailbackRefused)
)

// FailbackReport says what Failback did.
type FailbackReport struct {
	Generation uint64   `json:"generation"`  // the committed generation written into chip A's region
	Types      []string `json:"types"`       // the types written
	RoleEpoch  uint64   `json:"role_epoch"`  // the epoch of the new role record
	ActiveChip int      `json:"active_chip"` // 0: chip A is active again
}

// Failback re-seeds chip A (a replaced or blank chip, or one that came
// back) from the backup and makes it the active chip again, undoing a
// failover. It refuses (an error wrapping ErrFailbackRefused, nothing
// written) when chip A is already active, no committed generation exists,
// a failover's restore is pending, or chip A does not answer reads within
// the threshold or carries no image the identity source can read.
//
// It writes the newest committed generation into chip A's information
// region, each record read back (the failover's restore, restoreRegion),
// and only then the role record (epoch+1, chip A active) into the store
// of chip B, which becomes the backup. A power cut before the role record
// leaves the old roles with the active chip's data untouched; after it,
// chip A is active with its region fully written. Failback takes the round
// lock: it never interleaves with a round.
func (e *Engine) Failback(ctx context.Context) (FailbackReport, error) {
	if err := e.readOnly("failback"); err != nil {
		return FailbackReport{}, err
	}
	e.lockRound()
	defer e.unlockRound()
	if err := ctx.Err(); err != nil {
		return FailbackReport{}, fmt.Errorf("failback: %w", err)
	}
	old := e.role
	src := e.newest()
	switch {
	case old.Active == 0:
		return FailbackReport{}, ErrAlreadyActive
	case old.RestorePending:
		return FailbackReport{}, fmt.Errorf("%w: %w", ErrFailbackRefused, ErrRestorePending)
	case src == nil || src.StateRef().Generation == 0:
		return FailbackReport{}, ErrNoGeneration
	}
	hdr, err := e.checkFailbackChip()
	if err != nil {
		return FailbackReport{}, err
	}
	roleStore := e.stores[1]
	if roleStore == nil || roleStore.Interrupted() != nil {
		roleStore = e.stores[0]
	}
	if roleStore == nil || roleStore.Interrupted() != nil {
		return FailbackReport{}, fmt.Errorf("%w: no store can take the role record (chip B's store is unreadable or holds an interrupted round: run a round first)", ErrFailbackRefused)
	}
	r := store.Role{Epoch: old.Epoch + 1, Active: 0}
	gen := src.StateRef().Generation
	if e.opts.failbackRoleFirst { // BROKEN ON PURPOSE (tests only): the role before the data
		if err := roleStore.SetRole(r); err != nil {
			return FailbackReport{}, fmt.Errorf("failback: %w", err)
		}
	}
	restored, failed, err := e.restoreRegion(0, src)
	if err == nil && len(failed) > 0 {
		// Not a RestoreError: that one means a failover's restore is
		// pending; here the roles are unchanged and chip B stays active.
		errs := make([]error, len(failed))
		for i, f := range failed {
			errs[i] = fmt.Errorf("%v: %w", f.Type, f.Err)
		}
		err = fmt.Errorf("chip A's region not written for %d type(s), roles unchanged: %w", len(failed), errors.Join(errs...))
	}
	if err != nil {
		e.event(EventError, gen, "failback: "+err.Error())
		return FailbackReport{}, fmt.Errorf("failback: %w", err)
	}
	if !e.opts.failbackRoleFirst {
		if err := roleStore.SetRole(r); err != nil {
			e.event(EventError, gen, "failback: "+err.Error())
			return FailbackReport{}, fmt.Errorf("failback: %w", err)
		}
	}
	e.mu.Lock()
	e.role = r
	e.primaryErrors = nil // about chip B, no longer the primary
	// Chip A's image is the active one now: it is held to the version
	// committed from it before the failover (committedFromActive), and
	// an upgrade noted of chip B's image is no longer the question.
	e.primaryVersion = hdr.Version
	e.upgradePending = false
	e.mu.Unlock()
	e.refreshNewestState()
	e.event(EventFailback, gen, fmt.Sprintf("%s re-seeded from generation %d (%v) and active again (role epoch %d)", e.chips[0].Geometry().Name, gen, restored, r.Epoch))
	if e.opts.Mutant != UpgradeForgotten {
		e.upgradeDetected(hdr, NoChoice)
	}
	return FailbackReport{Generation: gen, Types: restored, RoleEpoch: r.Epoch, ActiveChip: 0}, nil
}

// checkFailbackChip checks that chip A answers: its image identity reads
// (the image header with the default source) and so does its information
// region's first bytes, each read within the configured threshold. It
// returns chip A's image identity.
func (e *Engine) checkFailbackChip() (info.ImageHeader, error) {
	e.mu.Lock()
	threshold := e.config.Threshold
	e.mu.Unlock()
	a := &timedPrimary{Flash: e.chips[0], clock: e.clock, threshold: threshold}
	var hdr info.ImageHeader
	var err error
	if e.headerProbe() {
		hdr, err = info.ReadImageHeader(a)
	} else {
		hdr, err = e.imageID(0, a, info.ImageHeader{})
	}
	if err == nil {
		b := make([]byte, info.RegionHeaderSize)
		_, err = a.ReadAt(b, e.opts.Layout.InfoOff)
	}
	if err == nil && !a.firstSlowStart.IsZero() {
		err = fmt.Errorf("a read took %v, above the threshold %v", a.slowestRead, threshold)
	}
	if err != nil {
		return info.ImageHeader{}, fmt.Errorf("%w: %s: %w", ErrChipUnhealthy, e.chips[0].Geometry().Name, err)
	}
	return hdr, nil
}
