package engine

import (
	"slices"
	"time"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// Counters count what the engine did since Open.
type Counters struct {
	Rounds         int64 `json:"rounds"`
	Commits        int64 `json:"commits"`
	NothingChanged int64 `json:"nothing_changed"`
	// Interrupts counts rounds interrupted before their commit: by an
	// anomaly of the primary or stopped by their context (a daemon's
	// shutdown, a new configuration); one EventInterrupt each.
	Interrupts int64 `json:"interrupts"`
	Failovers  int64 `json:"failovers"`
	Purges     int64 `json:"purges"`
	Recoveries int64 `json:"recoveries"`
	Errors     int64 `json:"errors"`
	// PrimaryCorrupt counts anomalies where the primary answered with
	// corrupt information (EventPrimaryCorrupt).
	PrimaryCorrupt int64 `json:"primary_corrupt"`
	// TableFallbacks counts the types rounds read whole although the
	// region keeps change tables and the backup holds a committed
	// generation to compare with (the table disagreed with the record;
	// RoundReport.ReadWhole). A round before the first commit reads
	// whole and is not counted.
	TableFallbacks int64 `json:"table_fallbacks"`
	// ChangeTableFaults counts the primary chunks the scrub found changed
	// since their commit although the change table said they were not
	// (EventChangeTable); the next round re-read each.
	ChangeTableFaults int64 `json:"change_table_faults"`
	// RestoreFailures counts the failover restores that failed for some
	// type (EventRestoreFailed).
	RestoreFailures int64 `json:"restore_failures"`
}

// TypeStatus is one information type of the newest committed generation.
type TypeStatus struct {
	Type     info.Type `json:"type"`
	Name     string    `json:"name"`
	Selected bool      `json:"selected"`
	Size     int64     `json:"size"`
	Seq      uint64    `json:"seq"`    // the primary record's sequence number it was taken from
	Digest   string    `json:"digest"` // store.PayloadDigest, hex
	Chunks   int       `json:"chunks"`
	// Synced: the backup's newest generation holds the type and nothing
	// known says the primary's information differs from it for a reason
	// other than new CMC activity: no record of the type read corrupt
	// since it was last committed (PrimaryError), no image upgrade waiting
	// for a choice, no restore-defaults left incomplete, no failover's
	// restore of the type failed (Status.RestoreFailed).
	Synced bool `json:"synced"`
	// PrimaryError is the corruption the last round found in the
	// primary's record of the type (cleared when a round commits it, or
	// by a failover to the other chip).
	PrimaryError string `json:"primary_error,omitempty"`
}

// Status is the engine's state for the API and CLI.
type Status struct {
	Active     string `json:"active"`      // "primary" (chip 0's image runs) or "backup" (after a failover)
	ActiveChip int    `json:"active_chip"` // 0 or 1: the chip the active image runs from
	BackupChip int    `json:"backup_chip"`
	RoleEpoch  uint64 `json:"role_epoch"` // failovers since format
	// Generation is the newest committed generation (on the backup chip,
	// or after a failover on the chip that became active).
	Generation uint64       `json:"generation"`
	LastSync   time.Time    `json:"last_sync"`
	NextSync   time.Time    `json:"next_sync"`
	NextGroup  TypeList     `json:"next_group"`
	Types      []TypeStatus `json:"types"`
	LastError  string       `json:"last_error,omitempty"`
	// NotSynced says why the last round did not commit (its outcome and
	// cause: an anomaly, a corrupt primary, an error, an upgrade waiting
	// for a choice); empty once a round commits. NotSyncedSince is when
	// the first of the rounds in a row that did not commit started.
	NotSynced      string    `json:"not_synced,omitempty"`
	NotSyncedSince time.Time `json:"not_synced_since,omitzero"`
	UpgradePending bool      `json:"upgrade_pending"`
	// RestoreIncomplete: a restore-defaults was chosen and its completion
	// is not recorded yet (Open or the next round completes it);
	// UpgradePending is set too.
	RestoreIncomplete bool `json:"restore_incomplete,omitempty"`
	// RestorePending: a failover's restore of the active chip's
	// information region has not completed; no round commits until it
	// does. RestoreFailed lists the types its last try could not restore
	// (the restore-failed alarm).
	RestorePending bool     `json:"restore_pending,omitempty"`
	RestoreFailed  TypeList `json:"restore_failed,omitempty"`
	// PrimaryVersion is the active chip's image version as last read (by
	// Open, a round's probe or a failback); CommittedVersion the one that
	// image is held to: recorded with the newest generation taken from the
	// active chip (after a failback, chip A's from before the failover),
	// or, while no generation was taken from it yet (right after the
	// first failover), the one recorded with the newest generation.
	PrimaryVersion   string `json:"primary_version"`
	CommittedVersion string `json:"committed_version"`
	// UpgradeChoice is the choice recorded with CommittedVersion (the
	// newest generation taken from the active chip, which the next commit
	// carries on; while there is none, the newest generation's): after a
	// failback, chip A's choice from before the failover, not one made for
	// chip B's image while it was active.
	UpgradeChoice UpgradeChoice `json:"upgrade_choice"`
	Config        Config        `json:"config"`
	Counters      Counters      `json:"counters"`
	LastRound     *RoundReport  `json:"last_round,omitempty"`
	Mutant        string        `json:"mutant,omitempty"`
	// Damage lists damage the stores reported when opened (a bad
	// superblock copy, journal records lost) and the committed chunks of
	// the backup that failed their digests when Open verified them; empty
	// normally.
	Damage []string `json:"damage,omitempty"`
	// BackupHealth is what the scrub knows of the backup's committed
	// chunks: HealthUnknown, HealthOK, HealthDamaged or
	// HealthUnrepairable; LastScrub ends the last complete pass (Open
	// makes one: it verifies every committed chunk of the backup; zero if
	// it could not); ScrubDamage lists the damage not yet repaired.
	BackupHealth string        `json:"backup_health"`
	LastScrub    time.Time     `json:"last_scrub,omitzero"`
	ScrubDamage  []ChunkDamage `json:"scrub_damage,omitempty"`
}

// setErr sets Status.LastError (cleared by nil) and counts errors.
func (e *Engine) setErr(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err == nil {
		e.lastError = ""
		return
	}
	e.lastError = err.Error()
	e.counters.Errors++
}

// noteNotSynced records that the round of rep ended without committing,
// and why (Status.NotSynced); the streak of such rounds runs from the
// first one's start.
func (e *Engine) noteNotSynced(rep *RoundReport, why string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.notSynced = rep.Outcome + ": " + why
	if e.notSyncedSince.IsZero() {
		e.notSyncedSince = rep.Started
	}
}

// Status returns the engine's state.
func (e *Engine) Status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := Status{
		ActiveChip: int(e.role.Active), BackupChip: 1 - int(e.role.Active), RoleEpoch: e.role.Epoch,
		Generation: e.newestState.Generation, LastSync: e.lastSync, NextSync: e.nextSync,
		LastError: e.lastError, NotSynced: e.notSynced, NotSyncedSince: e.notSyncedSince, UpgradePending: e.upgradePending, PrimaryVersion: e.primaryVersion,
		CommittedVersion: e.heldVersion, UpgradeChoice: UpgradeChoice(e.heldChoice),
		Config: e.config.Clone(), Counters: e.counters, LastRound: e.lastReport,
		RestorePending: e.role.RestorePending, RestoreFailed: slices.Clone(e.restoreFailed),
	}
	st.Active = "primary"
	if e.role.Active != 0 {
		st.Active = "backup"
	}
	if e.opts.Mutant != None {
		st.Mutant = e.opts.Mutant.String()
	}
	ns := &e.newestState
	st.RestoreIncomplete = ns.Generation > 0 && ns.UpgradeChoice == store.ChoiceRestoreDefaults && ns.ImageVersion == "" && e.opts.Mutant != RestoreForgotten
	st.UpgradePending = st.UpgradePending || st.RestoreIncomplete
	st.NextGroup = group(e.config, e.newestState.GroupNext)
	st.Damage = slices.Clone(e.damage)
	e.scrubStatus(&st)
	for _, t := range info.All() {
		ts := TypeStatus{Type: t, Name: t.String(), Selected: slices.Contains(e.config.Types, t)}
		if x, ok := e.newestState.Type(uint8(t)); ok {
			ts.Size, ts.Seq, ts.Digest, ts.Chunks = x.Size, x.Seq, x.Digest.String(), len(x.Chunks)
		}
		ts.PrimaryError = e.primaryErrors[t]
		ts.Synced = ts.Digest != "" && ts.PrimaryError == "" && !st.UpgradePending && !slices.Contains(e.restoreFailed, t)
		st.Types = append(st.Types, ts)
	}
	return st
}
