package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// How a restore-defaults survives a power loss. Writing the defaults to
// the primary's information region takes a record write per type; a cut
// in the middle leaves a record torn. So the choice is made durable before
// the first write and its completion after the last, with the store's
// ordinary records:
//
//  1. a commit-only generation (no data written: the committed chunks
//     stay) whose head records UpgradeChoice restore-defaults with an
//     empty ImageVersion: the restore's mark. No completed generation
//     has an empty version with that choice (the first round records the
//     version, and an upgrade round records the new one), so the mark
//     cannot be mistaken for a restore done earlier;
//  2. the defaults of the mark's configured types, written to the
//     primary;
//  3. the upgrade round, which commits the primary's new image version
//     with the choice: the completion.
//
// Open (and any round) that finds the mark as the newest generation
// writes the defaults again and runs the upgrade round (see
// completeRestore); until it commits, no type is reported synced.

// ErrRestoreIncomplete: a restore-defaults was chosen and has not
// completed; it completes before anything else (the next round, or Open).
var ErrRestoreIncomplete = errors.New("a restore-defaults is not complete yet")

// restoreMarked reports whether the newest committed generation is the
// mark of a restore-defaults whose completion is not recorded.
func (e *Engine) restoreMarked() bool {
	n := e.newest()
	if n == nil {
		return false
	}
	st := n.StateRef()
	return st.Generation > 0 && st.UpgradeChoice == store.ChoiceRestoreDefaults && st.ImageVersion == ""
}

// markRestore commits the restore-defaults mark (step 1) on the backup
// store, for the configuration cfg, unless it is the newest generation
// already.
func (e *Engine) markRestore(cfg Config) error {
	if e.restoreMarked() {
		return nil
	}
	bk, err := e.backupStore()
	if err != nil {
		return err
	}
	newest := e.newest().StateRef()
	gen := max(e.storeGen(0), e.storeGen(1)) + 1
	r, err := bk.Begin(store.Plan{Generation: gen, Config: toStoreConfig(cfg)})
	if err != nil {
		return fmt.Errorf("mark restore-defaults: %w", err)
	}
	e.mu.Lock()
	st := store.State{Generation: gen, Time: e.now(), NextSync: e.nextSync, Config: toStoreConfig(cfg),
		UpgradeChoice: store.ChoiceRestoreDefaults, GroupNext: newest.GroupNext, Role: e.role}
	e.mu.Unlock()
	if err := r.Commit(st); err != nil {
		r.Abandon()
		return fmt.Errorf("mark restore-defaults: %w", err)
	}
	e.refreshNewestState()
	e.mu.Lock()
	e.config = cfg.Clone()
	e.mu.Unlock()
	return nil
}

// writeDefaults writes each type's preset default contents to the
// primary's information region (step 2).
func (e *Engine) writeDefaults(types []info.Type) error {
	e.mu.Lock()
	primary := e.chips[e.role.Active]
	e.mu.Unlock()
	region, err := info.OpenRegion(primary, e.opts.Layout.InfoOff, e.opts.Layout.InfoSize)
	if err != nil {
		return err
	}
	var scratch []byte
	for _, t := range types {
		// Read back twice and written again if it does not read back, as a
		// failover's restore does: a write cut short leaves bits that may
		// read right once (Write then finds the record unchanged).
		if scratch, err = restoreType(region, t, info.Default(t), scratch); err != nil {
			return fmt.Errorf("restore %v defaults: %w", t, err)
		}
	}
	return nil
}

// restoreDefaults runs the three steps of a restore-defaults with the
// round locks held; a mark found already (an earlier restore cut short)
// is reused. announce logs the user's choice (EventUpgradeChoice) once
// the mark is durable.
func (e *Engine) restoreDefaults(ctx context.Context, announce bool) (RoundReport, error) {
	e.mu.Lock()
	cfg := e.config.Clone()
	e.mu.Unlock()
	if err := e.markRestore(cfg); err != nil {
		return RoundReport{}, fmt.Errorf("upgrade: %w", err)
	}
	types := FromStoreConfig(e.newest().StateRef().Config).Types
	if announce {
		e.event(EventUpgradeChoice, e.newestGeneration(), fmt.Sprintf("%v for types %s (recorded in generation %d before the defaults are written)",
			RestoreDefaults, info.FormatList(types), e.newestGeneration()))
	}
	if err := e.writeDefaults(types); err != nil {
		return RoundReport{}, fmt.Errorf("upgrade: %w", err)
	}
	return e.round(ctx, RestoreDefaults)
}

// completeRestore finishes a restore-defaults found marked and not
// completed (see restoreMarked): the defaults are written again, whole,
// and the upgrade round commits them; with a configuration Validate
// refuses, it refuses first, writing nothing (ErrCommittedConfig). The
// round locks must be held.
func (e *Engine) completeRestore(ctx context.Context) (RoundReport, error) {
	if e.usableConfig() != nil {
		// Refused as any round, before the defaults are written again:
		// prepare's check ends the round (ErrCommittedConfig).
		e.countRound()
		_, rep, err := e.prepare(ctx, NoChoice)
		return rep, err
	}
	e.event(EventRecovery, e.newestGeneration(), "restore-defaults found not complete: writing the defaults again and syncing them")
	return e.restoreDefaults(ctx, false)
}

// upgradeAtOpen notes at Open what the flash says of an image upgrade: a
// restore-defaults cut short is completed; otherwise a primary image
// version other than the committed one is an upgrade waiting for a
// choice, as the next round would find it (Status.UpgradePending).
func (e *Engine) upgradeAtOpen(ctx context.Context) error {
	if e.opts.Mutant == RestoreForgotten && e.restoreMarked() {
		return nil
	}
	if e.restoreMarked() {
		if e.usableConfig() != nil {
			// Open said so (Status.LastError); the first round after a
			// valid configuration is set completes the restore.
			return nil
		}
		e.lockRound()
		defer e.unlockRound()
		_, err := e.completeRestore(ctx)
		return err
	}
	active := int(e.role.Active)
	hdr, err := info.ReadImageHeader(e.chips[active])
	if !e.headerProbe() {
		if hdr, err = e.imageID(active, e.chips[active], info.ImageHeader{}); err != nil {
			return err // the first round finds it again
		}
	}
	if err != nil {
		return nil // the first round's probe finds it
	}
	e.mu.Lock()
	e.primaryVersion = hdr.Version
	e.mu.Unlock()
	if e.opts.Mutant == UpgradeForgotten {
		return nil
	}
	e.upgradeDetected(hdr, NoChoice)
	return nil
}
