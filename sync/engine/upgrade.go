package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// UpgradeChoice is what to do with the information after an image upgrade.
type UpgradeChoice uint8

// Upgrade choices.
const (
	NoChoice        UpgradeChoice = UpgradeChoice(store.ChoiceNone)
	KeepUpgraded    UpgradeChoice = UpgradeChoice(store.ChoiceKeepUpgraded)    // keep the upgraded image's information: sync it as the new baseline
	RestoreDefaults UpgradeChoice = UpgradeChoice(store.ChoiceRestoreDefaults) // write the preset defaults to the primary, then sync them
)

// String returns "none", "keep-upgraded" or "restore-defaults".
func (u UpgradeChoice) String() string {
	switch u {
	case NoChoice:
		return "none"
	case KeepUpgraded:
		return "keep-upgraded"
	case RestoreDefaults:
		return "restore-defaults"
	}
	return fmt.Sprintf("choice(%d)", uint8(u))
}

// MarshalText encodes the choice as its name.
func (u UpgradeChoice) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// UnmarshalText parses a name of String.
func (u *UpgradeChoice) UnmarshalText(b []byte) error {
	v, err := ParseUpgradeChoice(string(b))
	*u = v
	return err
}

// ParseUpgradeChoice parses "keep-upgraded", "restore-defaults" or "none".
func ParseUpgradeChoice(s string) (UpgradeChoice, error) {
	for _, c := range []UpgradeChoice{NoChoice, KeepUpgraded, RestoreDefaults} {
		if c.String() == s {
			return c, nil
		}
	}
	return NoChoice, fmt.Errorf("unknown upgrade choice %q (want keep-upgraded or restore-defaults)", s)
}

// ErrUpgradePending: the primary runs a different image version than the
// one committed; call Upgrade with the user's choice.
var ErrUpgradePending = errors.New("image upgrade pending: choose keep-upgraded or restore-defaults")

// ErrNoUpgradePending: UpgradeRound was called while the engine knows of
// no image upgrade waiting for a choice (Status.UpgradePending is false):
// nothing to choose, nothing was done. Open notes a pending upgrade from
// the primary's image header; when it could not read the header, the next
// round's probe finds the upgrade, and the choice can be made after it.
var ErrNoUpgradePending = errors.New("no image upgrade is pending")

// Upgrade applies the user's choice after an image upgrade (the upgrade
// choice step of the method, docs/DESIGN.md, The method) and syncs at
// once; see UpgradeRound, which also returns the round's report.
func (e *Engine) Upgrade(choice UpgradeChoice) error {
	_, err := e.UpgradeRound(context.Background(), choice)
	return err
}

// UpgradeRound applies the user's choice after an image upgrade and syncs
// at once: KeepUpgraded takes the upgraded image's information as the new
// baseline; RestoreDefaults first writes each chosen type's preset default
// contents to the primary's information region, power-safely (see
// restoreDefaults: a restore cut short is completed by Open or the next
// round). The choice and the new image version are committed with the
// generation. KeepUpgraded while a restore-defaults is not complete
// returns an error wrapping ErrRestoreIncomplete.
//
// A choice needs an upgrade waiting for it (Status.UpgradePending: noted
// by Open or by a round that found it, or a restore-defaults not
// complete); otherwise UpgradeRound does nothing and returns an error
// wrapping ErrNoUpgradePending. The check and the choice's round are one
// step under the round lock: of two choices made at once, the second
// finds the upgrade done and is refused.
func (e *Engine) UpgradeRound(ctx context.Context, choice UpgradeChoice) (RoundReport, error) {
	if err := e.readOnly("upgrade"); err != nil {
		return RoundReport{}, err
	}
	if choice != KeepUpgraded && choice != RestoreDefaults {
		return RoundReport{}, fmt.Errorf("upgrade: choose keep-upgraded or restore-defaults, not %v", choice)
	}
	e.lockRound()
	defer e.unlockRound()
	if err := e.requireUpgradePending(choice); err != nil {
		return RoundReport{}, err
	}
	if err := e.usableConfig(); err != nil {
		// Before restore-defaults writes its mark (a generation) and the
		// primary's defaults.
		return RoundReport{}, fmt.Errorf("upgrade: %w", err)
	}
	if choice == RestoreDefaults {
		return e.restoreDefaults(ctx, true)
	}
	if e.restoreMarked() {
		return RoundReport{}, fmt.Errorf("upgrade: %w: the restore-defaults chosen before completes first (at the next round)", ErrRestoreIncomplete)
	}
	e.mu.Lock()
	types := slices.Clone(e.config.Types)
	e.mu.Unlock()
	e.event(EventUpgradeChoice, e.newestGeneration(), fmt.Sprintf("%v for types %s", choice, info.FormatList(types)))
	return e.round(ctx, choice)
}

// requireUpgradePending returns an error wrapping ErrNoUpgradePending
// unless an upgrade waits for choice: one noted (by Open or a round), or
// a restore-defaults whose mark is the newest generation. The round locks
// must be held.
func (e *Engine) requireUpgradePending(choice UpgradeChoice) error {
	if e.restoreMarked() {
		return nil
	}
	e.mu.Lock()
	pending, primary := e.upgradePending, e.primaryVersion
	committed := e.heldVersion
	e.mu.Unlock()
	if pending {
		return nil
	}
	if primary == "" {
		return fmt.Errorf("upgrade %v: %w (the primary's image identity is not known yet: the next round reads it and finds an upgrade if there is one)", choice, ErrNoUpgradePending)
	}
	return fmt.Errorf("upgrade %v: %w (the primary's image identity is %q, the committed one %q)", choice, ErrNoUpgradePending, primary, committed)
}

// committedFromActive returns the committed state of the newest generation
// taken from the active chip's image: the one in the backup's store
// (rounds write the backup's store, from the active chip), or nil when
// that store holds none (no generation was ever taken from the active
// chip) or does not read. Its image version is the one the active chip's
// image is held to (upgradeDetected, Status.CommittedVersion): after a
// failback, the version chip A ran, and the user chose for, before the
// failover, not the one chip B's image recorded while it was active. The
// round locks must be held.
func (e *Engine) committedFromActive() *store.State {
	s := e.stores[1-e.role.Active]
	if s == nil || s.StateRef().Generation == 0 {
		return nil
	}
	return s.StateRef()
}
