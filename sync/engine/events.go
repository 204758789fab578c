package engine

import (
	"fmt"
	"slices"
	"time"
)

// EventKind names what happened.
type EventKind string

// Event kinds.
const (
	EventAnomaly       EventKind = "anomaly"        // the primary failed a probe or a read
	EventInterrupt     EventKind = "interrupt"      // a round stopped because of an anomaly
	EventFailover      EventKind = "failover"       // the backup became the active image
	EventPurge         EventKind = "purge"          // an interrupted round's blocks were erased
	EventPurgeVerified EventKind = "purge-verified" // they read back erased; the purged mark is written
	EventReinit        EventKind = "reinit"         // configuration restored from the last committed generation
	EventUpgradeChoice EventKind = "upgrade-choice" // the user chose what to do after an image upgrade
	EventCommit        EventKind = "commit"         // a generation was committed
	EventRecovery      EventKind = "recovery"       // Open found and handled state left by a power loss
	EventRestore       EventKind = "restore"        // the new active chip's information region was restored after failover
	EventFailback      EventKind = "failback"       // chip A was re-seeded from the committed generation and is active again
	EventError         EventKind = "error"          // a round failed (flash error)
	EventUpgrade       EventKind = "upgrade"        // the primary's image version differs from the committed one
	EventDamage        EventKind = "damage"         // stored data failed its digest check
	// EventPrimaryCorrupt is the alarm of a primary that answered with
	// corrupt information (a bad header or record CRC, a changed image
	// header): counted as no answer, it fails over once the threshold
	// passes unless the primary answers correctly before.
	EventPrimaryCorrupt EventKind = "primary-corrupt"
	EventScrub          EventKind = "scrub"  // a scrub pass over the backup's committed chunks completed
	EventRepair         EventKind = "repair" // a round rewrote chunks a scrub found damaged
	// EventChangeTable is a change-table fault: the scrub found a chunk of
	// the primary that differs from its committed digest although the
	// information region's change table says it did not change; the next
	// round re-reads it.
	EventChangeTable EventKind = "change-table"
	// EventRestoreFailed is the alarm of a failover's restore that could
	// not write every type of the last committed generation into the new
	// active chip's region (RestoreError names each); no round commits
	// until a retry completes it.
	EventRestoreFailed EventKind = "restore-failed"
)

// Event is one entry of the engine's structured log.
type Event struct {
	Time       time.Time `json:"time"`
	Kind       EventKind `json:"kind"`
	Generation uint64    `json:"generation"`
	Detail     string    `json:"detail"`
}

// String formats the event on one line.
func (ev Event) String() string {
	return fmt.Sprintf("%s %-14s gen=%d %s", ev.Time.UTC().Format(time.RFC3339Nano), ev.Kind, ev.Generation, ev.Detail)
}

// maxEvents bounds the in-memory event log; older events are dropped.
const maxEvents = 1000

// event appends an event to the log (dropping the oldest beyond
// maxEvents) and hands it to Options.Logf.
func (e *Engine) event(k EventKind, gen uint64, detail string) {
	ev := Event{Time: e.now(), Kind: k, Generation: gen, Detail: detail}
	e.mu.Lock()
	e.events = append(e.events, ev)
	if len(e.events) > maxEvents {
		e.events = slices.Delete(e.events, 0, len(e.events)-maxEvents)
	}
	e.mu.Unlock()
	e.logf("%s", ev)
}

// logf hands a line to Options.Logf, if set.
func (e *Engine) logf(format string, args ...any) {
	if e.opts.Logf != nil {
		e.opts.Logf(format, args...)
	}
}

// Events returns the event log, oldest first.
func (e *Engine) Events() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.events)
}
