package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Backend is what the page and the API need from a sync engine. The daemon
// adapts the real engine to it; tests use a fake.
//
// Every method must be safe for concurrent use: HTTP handlers and the
// /metrics collector call them from many goroutines. Status, Events, Types
// and Config are called on every page poll and metrics scrape, so they must
// be cheap and must not wait for a running round.
type Backend interface {
	// Status reports the current state: active image, generation, sync
	// times, per-type state, pending upgrade, counters.
	Status() Status
	// Events returns the event log, oldest first. The slice is the
	// caller's.
	Events() []Event
	// Types lists every information type the engine knows, with its
	// explanation, in display order.
	Types() []TypeInfo
	// Config returns the current sync configuration.
	Config() Config
	// SetConfig validates and stores c. An error that wraps [ErrInvalid]
	// means c was refused and nothing changed (the API answers 400 with
	// the error's text); any other error is a failure of the device (500).
	SetConfig(c Config) error
	// SyncNow runs one round at once (waiting for a round in progress to
	// finish first) and returns its report. The [Server] records the
	// returned round for the chart and metrics itself; whoever runs the
	// scheduled rounds reports those with [Server.RecordRound].
	SyncNow(ctx context.Context) (Round, error)
	// Upgrade applies the user's choice after an image upgrade (and may
	// sync at once). It returns an error wrapping [ErrNoUpgrade] when no
	// upgrade is pending and one wrapping [ErrInvalid] for an unknown
	// choice. The Server records no round for it: a Backend that runs one
	// reports it with [Server.RecordRound].
	Upgrade(ctx context.Context, choice UpgradeChoice) error
	// Failback re-seeds chip A from the newest committed generation and
	// makes it the active chip again (after a failover and a repair or
	// replacement of chip A). A refusal (chip A already active, nothing
	// committed, a restore pending, chip A not answering) wraps
	// [ErrConflict] and changed nothing.
	Failback(ctx context.Context) (Failback, error)
	// PutInfo writes a type's record of the active chip's information
	// region from p.Data, as a CMC service would, never during a round.
	// An unknown type or data that does not decode wraps [ErrInvalid]
	// (400) and writes nothing.
	PutInfo(ctx context.Context, p InfoPut) (InfoPutResult, error)
}

// UpgradeSimulator is an optional Backend ability: simulated chips can be
// given a new firmware image, so the page can demonstrate the post-upgrade
// choices. When the Backend implements it, the API offers
// POST /api/simulate/upgrade and the page shows a button for it.
type UpgradeSimulator interface {
	// SimulateUpgrade writes a new firmware image (a new version) to the
	// active image, as a firmware update would.
	SimulateUpgrade(ctx context.Context) error
}

// Sentinel errors a Backend wraps so the API can answer with the right
// status code.
var (
	// ErrInvalid marks a request the backend refused because of its
	// contents (400 Bad Request). Nothing was changed.
	ErrInvalid = errors.New("invalid request")
	// ErrNoUpgrade means an upgrade choice was made while no upgrade is
	// pending (409 Conflict).
	ErrNoUpgrade = errors.New("no image upgrade is pending")
	// ErrConflict means the engine's state does not allow the request now,
	// e.g. a sync while an upgrade waits for the user's choice (409).
	ErrConflict = errors.New("not possible in the engine's current state")
	// ErrTooManyWrites means the backend refused a change to spare the
	// flash: its budget of writes the API may cause is spent (429 Too
	// Many Requests). An error that also has a RetryAfterSeconds() int
	// method sets the Retry-After header.
	ErrTooManyWrites = errors.New("too many flash writes")
)

// FieldError is a validation error about one field of a request. It wraps
// [ErrInvalid].
type FieldError struct {
	Field string // JSON name of the field, e.g. "interval_seconds"
	Msg   string // what is wrong and what is allowed
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Unwrap returns [ErrInvalid].
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Duration is a time.Duration that encodes in JSON as a number of seconds
// (docs/JSON.md: durations are float seconds in keys ending "_seconds").
type Duration time.Duration

// MarshalJSON encodes d as float seconds.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).Seconds())
}

// maxDurationSeconds bounds a decoded duration (about 292 years fit a
// time.Duration; a day is the most the API accepts anyway).
const maxDurationSeconds = 1e9

// UnmarshalJSON decodes a number of seconds such as 30 or 0.5.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s float64
	if err := json.Unmarshal(b, &s); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && strings.HasPrefix(te.Value, "number") {
			return fmt.Errorf("%s seconds is too large (at most %v)", capText(string(b), maxNameEcho), float64(maxDurationSeconds))
		}
		return fmt.Errorf("want a number of seconds such as 30 or 0.5")
	}
	if s < 0 {
		return fmt.Errorf("%v seconds is negative: give 0 or more seconds", s)
	}
	if s > maxDurationSeconds {
		return fmt.Errorf("%v seconds is too large (at most %v)", s, float64(maxDurationSeconds))
	}
	*d = Duration(math.Round(s * float64(time.Second)))
	return nil
}

// Config is the sync configuration as the API and page see it.
type Config struct {
	// Types are the names of the chosen information types ("power",
	// "fan", ...), in any order, without duplicates.
	Types []string `json:"types"`
	// Interval is the time between scheduled rounds.
	Interval Duration `json:"interval_seconds"`
	// Threshold is the response-time threshold: when the primary has not
	// answered the backup for longer than this during an anomaly, the
	// backup image is started (failover).
	Threshold Duration `json:"threshold_seconds"`
	// Verify reads back everything written to the backup.
	Verify bool `json:"verify"`
	// GroupSize is how many chosen types each round syncs, round-robin;
	// 0 syncs all chosen types every round.
	GroupSize int `json:"group_size"`
	// RetryAtOnce retries a purged round immediately when the primary
	// recovered within the threshold, instead of at the next scheduled time.
	RetryAtOnce bool `json:"retry_at_once"`
}

// Limits of the configuration values the API accepts. The page checks the
// same bounds before it sends anything.
const (
	MinInterval  = time.Second
	MaxInterval  = 24 * time.Hour
	MinThreshold = 10 * time.Millisecond
	MaxThreshold = 10 * time.Minute
)

// Validate checks c against the limits above and the known type names;
// the group size may not exceed the chosen types (as the engine demands).
// It returns a [*FieldError] naming the first bad field.
func (c Config) Validate(known []string) error {
	if err := validateTypes(c.Types, known); err != nil {
		return err
	}
	if d := time.Duration(c.Interval); d < MinInterval || d > MaxInterval {
		return &FieldError{"interval_seconds", fmt.Sprintf("sync interval %s is out of range: choose between %s and %s (%v to %v seconds)",
			shortDuration(d), shortDuration(MinInterval), shortDuration(MaxInterval), MinInterval.Seconds(), MaxInterval.Seconds())}
	}
	if d := time.Duration(c.Threshold); d < MinThreshold || d > MaxThreshold {
		return &FieldError{"threshold_seconds", fmt.Sprintf("response-time threshold %s is out of range: choose between %s and %s (%v to %v seconds)",
			shortDuration(d), shortDuration(MinThreshold), shortDuration(MaxThreshold), MinThreshold.Seconds(), MaxThreshold.Seconds())}
	}
	if c.GroupSize < 0 || c.GroupSize > len(c.Types) {
		return &FieldError{"group_size", fmt.Sprintf("group size %d is out of range: choose 0 (all chosen types every round) up to %d (the chosen types)", c.GroupSize, len(c.Types))}
	}
	return nil
}

// shortDuration is d as a user writes it: time.Duration's form without
// the zero minutes and seconds it adds to whole hours and minutes ("24h",
// "10m", "1h30m", not "24h0m0s", "10m0s", "1h30m0s").
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// emptySelection is the error about a selection with no information type:
// a sync of nothing is refused, not stored (docs/API.md, Config).
const emptySelection = "select at least one information type"

// CheckTypes checks a selection as Config.Validate does: at least one
// type, each known, none twice; the error is a [*FieldError] on "types".
// The command line and the configuration file check their selections
// with it too (config.ParseTypes), so a selection is accepted or refused
// alike on every path.
func CheckTypes(types, known []string) error { return validateTypes(types, known) }

// validateTypes checks a selection: at least one type, each known, none
// twice.
func validateTypes(types, known []string) error {
	if len(types) == 0 {
		return &FieldError{"types", fmt.Sprintf("%s (known: %s)", emptySelection, strings.Join(known, ", "))}
	}
	seen := map[string]bool{}
	for _, t := range types {
		if !slices.Contains(known, t) {
			return &FieldError{"types", fmt.Sprintf("unknown information type %q (known: %s)", capText(t, maxNameEcho), strings.Join(known, ", "))}
		}
		if seen[t] {
			return &FieldError{"types", fmt.Sprintf("information type %q is listed twice", t)}
		}
		seen[t] = true
	}
	return nil
}

// TypeInfo is one information type with its detailed explanation: what the
// page shows in its fixed display area.
//
// Sizes come in two kinds. TypicalSize is descriptive text written for a
// reference region and may not match this CMC; CapacityBytes and
// RegionBytes are the running information region's numbers, and the page
// quotes those whenever the backend knows them (the size held right now is
// TypeStatus.Size).
type TypeInfo struct {
	Name        string `json:"name"`         // stable name, e.g. "event-log"
	Title       string `json:"title"`        // e.g. "Node event log (SEL)"
	Holds       string `json:"holds"`        // what the information holds
	WhyBackup   string `json:"why_backup"`   // why the backup image needs it
	TypicalSize string `json:"typical_size"` // e.g. "16-64 KiB"; shown only when CapacityBytes is 0
	ChangeRate  string `json:"change_rate"`  // how often it changes
	// CapacityBytes is the largest payload this type's extent holds in the
	// running information region (0: unknown).
	CapacityBytes int64 `json:"capacity_bytes,omitempty"`
	// RegionBytes is the size of the running information region that
	// holds every type (0: unknown).
	RegionBytes int64 `json:"region_bytes,omitempty"`
}

// Status is the engine's state as the page shows it.
type Status struct {
	// Active is the image the CMC runs from: "primary" or "backup".
	Active string `json:"active"`
	// ActiveChip is the chip select of the active image (0 or 1).
	ActiveChip int `json:"active_chip"`
	// Chips describes the two flash devices, if known.
	Chips []Chip `json:"chips,omitempty"`
	// ImageVersion is the firmware version in the active image, if known.
	ImageVersion string `json:"image_version,omitempty"`
	// Generation is the last committed generation on the backup.
	Generation uint64 `json:"generation"`
	// LastSync and NextSync are the last round's time and the next
	// scheduled one (zero: never / not scheduled).
	LastSync time.Time `json:"last_sync,omitzero"`
	NextSync time.Time `json:"next_sync,omitzero"`
	// NextGroup is the group of types the next round syncs (polled
	// round-robin when the group size is set), if the backend knows it.
	NextGroup []string `json:"next_group,omitempty"`
	// Types has one entry per known information type.
	Types []TypeStatus `json:"types"`
	// LastError is the last round's error, if it failed.
	LastError string `json:"last_error,omitempty"`
	// NotSynced says why the last round did not commit, if it did not.
	NotSynced string `json:"not_synced,omitempty"`
	// BackupHealth is what the scrub of the backup's committed chunks
	// knows: "unknown" (no complete pass since the start), "ok",
	// "damaged" (the next round of the type repairs it) or
	// "unrepairable" (the primary's copy is damaged too); "" if the
	// backend does not scrub. LastScrub ends the last complete pass;
	// DamagedChunks counts the damage not repaired yet.
	BackupHealth  string    `json:"backup_health,omitempty"`
	LastScrub     time.Time `json:"last_scrub,omitzero"`
	DamagedChunks int       `json:"damaged_chunks,omitempty"`
	// Upgrade is set while an image upgrade waits for the user's choice.
	Upgrade *UpgradeInfo `json:"upgrade,omitempty"`
	// RestorePending: a failover's restore of the active chip's
	// information has not completed, so no round commits; RestoreFailed
	// names the types its last try could not restore (the alarm).
	RestorePending bool     `json:"restore_pending,omitempty"`
	RestoreFailed  []string `json:"restore_failed,omitempty"`
	// ChipsGone lists the chips whose image file (simulated) or device
	// node (MTD) was removed or replaced, or whose device went away,
	// while the daemon runs (the alarm): no round or write runs until a
	// restart; reads go on.
	ChipsGone []ChipGone `json:"chips_gone,omitempty"`
	// Counters since the daemon started or, if the engine stores them,
	// since the store was formatted.
	Counters Counters `json:"counters"`
	// CanSimulateUpgrade is true when POST /api/simulate/upgrade works
	// (simulated chips). The Server sets it.
	CanSimulateUpgrade bool `json:"can_simulate_upgrade"`
}

// ChipGone is a chip whose image file or device node is gone.
type ChipGone struct {
	Chip   string `json:"chip"`   // the chip's name, e.g. "flash0"
	Path   string `json:"path"`   // the image file or device node
	Detail string `json:"detail"` // what happened, naming the file
}

// Chip is one flash device.
type Chip struct {
	Role     string `json:"role"`     // "primary" or "backup" (logical role)
	Name     string `json:"name"`     // e.g. "flash0"
	Geometry string `json:"geometry"` // human summary, e.g. "mx66l1g45g NOR 8 MiB, 4 KiB erase"
}

// TypeStatus is one information type's sync state.
type TypeStatus struct {
	Name     string `json:"name"`
	Selected bool   `json:"selected"`
	// State is "synced" (the backup holds a committed copy of what the
	// primary holds), "pending" (chosen, no committed copy yet),
	// "not-selected", "not-synced" (a committed copy exists but the
	// primary's information may differ from it for a reason other than
	// new activity: an upgrade waiting for its choice, a restore-defaults
	// not completed), "damaged" (the scrub found a chunk of the backup's
	// copy damaged; the next round repairs it) or "error" (the primary's
	// record read corrupt, or damage nothing intact can repair). Reason
	// says why, for every state but synced, pending and not-selected.
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
	// Size is the payload size in bytes held on the backup (0 if none).
	Size int64 `json:"size"`
	// Generation is the generation that last wrote this type, if the
	// backend knows it (0: unknown or never).
	Generation uint64 `json:"generation,omitempty"`
	// Seq is the primary record's sequence number the backup copy was
	// taken from, if known.
	Seq uint64 `json:"seq,omitempty"`
	// Digest is the digest (hex) of the backup's copy, if known; it
	// compares with `cmcsync inspect` output.
	Digest string `json:"digest,omitempty"`
}

// UpgradeInfo describes a pending image upgrade.
type UpgradeInfo struct {
	FromVersion string    `json:"from_version,omitempty"`
	ToVersion   string    `json:"to_version,omitempty"`
	Detected    time.Time `json:"detected,omitzero"`
}

// Counters are running totals.
type Counters struct {
	Rounds       uint64 `json:"rounds"`        // rounds run (any outcome)
	Failures     uint64 `json:"failures"`      // rounds interrupted or failed
	Failovers    uint64 `json:"failovers"`     // switches to the backup image
	Purges       uint64 `json:"purges"`        // interrupted rounds purged from the backup
	BytesWritten int64  `json:"bytes_written"` // bytes programmed to the backup
}

// Round is one sync round's report.
type Round struct {
	Time            time.Time `json:"time"`
	Generation      uint64    `json:"generation"`
	Outcome         string    `json:"outcome"` // "committed", "interrupted", "failover", "nothing-changed", ...
	Types           []string  `json:"types"`
	BytesRead       int64     `json:"bytes_read"`
	BytesWritten    int64     `json:"bytes_written"`
	Erases          int64     `json:"erases"`
	PagesProgrammed int64     `json:"pages_programmed"`
	// DurationSeconds and WaitResponseSec are measured durations: float
	// seconds in members named *_seconds (docs/API.md, Conventions).
	DurationSeconds float64 `json:"duration_seconds"`
	WaitResponseSec float64 `json:"wait_response_seconds,omitempty"`
	Error           string  `json:"error,omitempty"`
}

// Event is one entry of the engine's event log. Its JSON has the members
// of the commands' --json events (internal/jsonout.Event), generation
// always present: 0 for an event of no round (a start, a log line) or of
// generation 0.
type Event struct {
	Time       time.Time `json:"time"`
	Kind       string    `json:"kind"` // anomaly, interrupt, failover, purge, purge-verified, reinit, upgrade-choice, commit, recovery
	Generation uint64    `json:"generation"`
	Detail     string    `json:"detail"`
}

// UpgradeChoice is the user's decision after an image upgrade (claim 5).
type UpgradeChoice string

// The two choices.
const (
	// KeepUpgraded keeps the information the upgraded image carries and
	// syncs it to the backup as the new baseline.
	KeepUpgraded UpgradeChoice = "keep-upgraded"
	// RestoreDefaults replaces every information type with the preset
	// default contents, on the primary and then the backup.
	RestoreDefaults UpgradeChoice = "restore-defaults"
)

// Valid reports whether c is one of the two choices.
func (c UpgradeChoice) Valid() bool { return c == KeepUpgraded || c == RestoreDefaults }

// Selection is the body of /api/selection: just the chosen types.
type Selection struct {
	Types []string `json:"types"`
}

// UpgradeRequest is the body of POST /api/upgrade.
type UpgradeRequest struct {
	Choice UpgradeChoice `json:"choice"`
}

// Failback is the answer of POST /api/failback: what was written into
// chip A and the new role.
type Failback struct {
	Generation uint64   `json:"generation"`  // the committed generation written into chip A's information region
	Types      []string `json:"types"`       // the types written
	RoleEpoch  uint64   `json:"role_epoch"`  // the epoch of the new role record
	ActiveChip int      `json:"active_chip"` // 0: chip A is active again
}

// MaxInfoBytes is the largest information input PUT /api/info/{type}
// takes (decoded): the largest information region's size.
const MaxInfoBytes = 4 << 20

// InfoPutRequest is the body of PUT /api/info/{type}.
type InfoPutRequest struct {
	// DataBase64 is the input in standard base64: a SEL file for
	// event-log, an IPMI FRU image for asset, else the payload as
	// cmcsync info get prints it. Required; at most MaxInfoBytes decoded.
	DataBase64 string `json:"data_base64"`
	// Slot is the asset slot a FRU image goes to (0 the chassis, 1-16 the
	// nodes, 17-22 the PSUs); only for asset.
	Slot *int `json:"slot,omitempty"`
	// SELLayout is a raw SEL file's layout: "ipmitool" (the default, as
	// `ipmitool sel writeraw` saves it) or "ipmi"; only for event-log.
	SELLayout string `json:"sel_layout,omitempty"`
	// AllowEmpty lets an empty input (DataBase64 "", or a SEL file without
	// a record) clear the event log; without it an empty input is refused
	// (400), as for every other type: an export that failed upstream
	// leaves one, and it would clear the record.
	AllowEmpty bool `json:"allow_empty,omitempty"`
}

// InfoPut is a decoded PUT /api/info/{type}, as a Backend gets it.
type InfoPut struct {
	Type      string // as the path names it
	Data      []byte
	Slot      int
	SELLayout string // "ipmitool" or "ipmi"
	// AllowEmpty (InfoPutRequest.AllowEmpty): an empty input clears the
	// event log.
	AllowEmpty bool
}

// InfoPutResult is the answer of PUT /api/info/{type}.
type InfoPutResult struct {
	Type    string `json:"type"`
	Slot    int    `json:"slot,omitempty"`
	Changed bool   `json:"changed"` // false: the payload was the stored one, nothing written
	Seq     uint64 `json:"seq"`     // the record's sequence number after the put
	Size    int    `json:"size"`    // its payload's size in bytes
}

// ErrorBody is every error response's JSON body.
type ErrorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}
