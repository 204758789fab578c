package jsonout

import (
	"time"

	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// Types returns type names.
func Types(ts []info.Type) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.String()
	}
	return out
}

// Config is a sync configuration.
type Config struct {
	Types            []string `json:"types"`
	IntervalSeconds  float64  `json:"interval_seconds"`
	ThresholdSeconds float64  `json:"threshold_seconds"`
	Verify           bool     `json:"verify"`
	GroupSize        int      `json:"group_size"`
	RetryAtOnce      bool     `json:"retry_at_once"`
}

// FromConfig converts an engine configuration.
func FromConfig(c engine.Config) Config {
	return Config{Types: Types(c.Types), IntervalSeconds: Seconds(c.Interval), ThresholdSeconds: Seconds(c.Threshold),
		Verify: c.Verify, GroupSize: c.GroupSize, RetryAtOnce: c.RetryAtOnce}
}

// FromStoreConfig converts a configuration as a store records it.
func FromStoreConfig(c store.Config) Config { return FromConfig(engine.FromStoreConfig(c)) }

// Round is what one sync round did.
type Round struct {
	Generation    uint64   `json:"generation"`
	Outcome       string   `json:"outcome"`
	Types         []string `json:"types"`
	ChangedTypes  []string `json:"changed_types"`
	ChangedChunks int      `json:"changed_chunks"`
	// ReadWhole: the types read whole rather than through the information
	// region's change tables (docs/DESIGN.md, Change tracking).
	ReadWhole           []string  `json:"read_whole,omitempty"`
	BytesRead           int64     `json:"bytes_read"`
	BytesWritten        int64     `json:"bytes_written"`
	Erases              int64     `json:"erases"`
	PagesProgrammed     int64     `json:"pages_programmed"`
	DataErases          int64     `json:"data_erases"`
	DataPages           int64     `json:"data_pages"`
	Started             time.Time `json:"started"`
	DurationSeconds     float64   `json:"duration_seconds"`
	WaitResponseSeconds float64   `json:"wait_response_seconds"`
	WritesAfterAnomaly  int       `json:"writes_after_anomaly"`
	Anomaly             string    `json:"anomaly,omitempty"`
	PurgedBlocks        int       `json:"purged_blocks,omitempty"`
	Error               string    `json:"error,omitempty"`
}

// FromRound converts a round report.
func FromRound(r engine.RoundReport) Round {
	return Round{Generation: r.Generation, Outcome: r.Outcome, Types: Types(r.Types), ChangedTypes: Types(r.ChangedTypes),
		ReadWhole: readWhole(r.ReadWhole), ChangedChunks: r.ChangedChunks, BytesRead: r.BytesRead, BytesWritten: r.BytesWritten, Erases: r.Erases,
		PagesProgrammed: r.PagesProgrammed, DataErases: r.DataErases, DataPages: r.DataPages, Started: r.Started,
		DurationSeconds: Seconds(r.Duration), WaitResponseSeconds: Seconds(r.WaitResponse), WritesAfterAnomaly: r.WritesAfterAnomaly,
		Anomaly: r.Anomaly, PurgedBlocks: r.PurgedBlocks, Error: r.Error}
}

// readWhole is nil (left out) when no type was read whole.
func readWhole(ts []info.Type) []string {
	if len(ts) == 0 {
		return nil
	}
	return Types(ts)
}

// Chunk is one damaged chunk.
type Chunk struct {
	Type  string `json:"type"`
	Index int    `json:"index"`
	Block uint32 `json:"block"`
	Error string `json:"error"`
}

func chunks(bad []store.ChunkReport) []Chunk {
	var out []Chunk
	for _, c := range bad {
		out = append(out, Chunk{Type: info.Type(c.Type).String(), Index: c.Index, Block: c.Block, Error: c.Error})
	}
	return out
}

// Scrub is a scrub's report.
type Scrub struct {
	Device     string   `json:"device"`
	Generation uint64   `json:"generation"`
	Chunks     int      `json:"chunks"`
	Bad        []Chunk  `json:"bad,omitempty"`
	Rewrite    []string `json:"rewrite,omitempty"`
	Damage     []string `json:"damage,omitempty"`
	// TableFaults: primary chunks the change table missed (see
	// engine.ScrubPrimary); the round that follows syncs them.
	TableFaults []TableFault `json:"table_faults,omitempty"`
}

// TableFault is one chunk of the primary that differs from its committed
// digest although its change-table entry says unchanged.
type TableFault struct {
	Type       string `json:"type"`
	Index      int    `json:"index"`
	Generation uint64 `json:"generation"`
}

// FromScrub converts a scrub report.
func FromScrub(s engine.ScrubReport) Scrub {
	out := Scrub{Device: s.Device, Generation: s.Generation, Chunks: s.Chunks, Bad: chunks(s.Bad), Damage: s.Damage}
	for _, f := range s.TableFaults {
		out.TableFaults = append(out.TableFaults, TableFault{Type: f.Type.String(), Index: f.Index, Generation: f.Generation})
	}
	if len(s.Rewrite) > 0 {
		out.Rewrite = Types(s.Rewrite)
	}
	return out
}

// Event is one engine event.
type Event struct {
	Time       time.Time `json:"time"`
	Kind       string    `json:"kind"`
	Generation uint64    `json:"generation"`
	Detail     string    `json:"detail"`
}

// FromEvents converts events.
func FromEvents(evs []engine.Event) []Event {
	out := make([]Event, 0, len(evs))
	for _, e := range evs {
		out = append(out, Event{Time: e.Time, Kind: string(e.Kind), Generation: e.Generation, Detail: e.Detail})
	}
	return out
}

// TypeStatus is one type of the newest committed generation.
type TypeStatus struct {
	Name         string `json:"name"`
	Selected     bool   `json:"selected"`
	Size         int64  `json:"size"`
	Seq          uint64 `json:"seq"`
	Digest       string `json:"digest"`
	Chunks       int    `json:"chunks"`
	Synced       bool   `json:"synced"`
	PrimaryError string `json:"primary_error,omitempty"`
}

// Status is the engine's state.
type Status struct {
	Active            string          `json:"active"`
	ActiveChip        int             `json:"active_chip"`
	BackupChip        int             `json:"backup_chip"`
	RoleEpoch         uint64          `json:"role_epoch"`
	Generation        uint64          `json:"generation"`
	LastSync          time.Time       `json:"last_sync,omitzero"` // left out before the first round
	NextSync          time.Time       `json:"next_sync,omitzero"`
	NextGroup         []string        `json:"next_group"`
	Types             []TypeStatus    `json:"types"`
	LastError         string          `json:"last_error,omitempty"`
	NotSynced         string          `json:"not_synced,omitempty"`
	UpgradePending    bool            `json:"upgrade_pending"`
	RestoreIncomplete bool            `json:"restore_incomplete,omitempty"`
	PrimaryVersion    string          `json:"primary_version"`
	CommittedVersion  string          `json:"committed_version"`
	UpgradeChoice     string          `json:"upgrade_choice"`
	Config            Config          `json:"config"`
	Counters          engine.Counters `json:"counters"`
	Damage            []string        `json:"damage,omitempty"`
	BackupHealth      string          `json:"backup_health"`
}

// FromStatus converts the engine's status.
func FromStatus(s engine.Status) Status {
	out := Status{Active: s.Active, ActiveChip: s.ActiveChip, BackupChip: s.BackupChip, RoleEpoch: s.RoleEpoch,
		Generation: s.Generation, LastSync: s.LastSync, NextSync: s.NextSync, NextGroup: Types(s.NextGroup),
		LastError: s.LastError, NotSynced: s.NotSynced, UpgradePending: s.UpgradePending, RestoreIncomplete: s.RestoreIncomplete,
		PrimaryVersion: s.PrimaryVersion, CommittedVersion: s.CommittedVersion, UpgradeChoice: s.UpgradeChoice.String(),
		Config: FromConfig(s.Config), Counters: s.Counters, Damage: s.Damage, BackupHealth: s.BackupHealth}
	for _, t := range s.Types {
		out.Types = append(out.Types, TypeStatus{Name: t.Name, Selected: t.Selected, Size: t.Size, Seq: t.Seq, Digest: t.Digest,
			Chunks: t.Chunks, Synced: t.Synced, PrimaryError: t.PrimaryError})
	}
	return out
}
