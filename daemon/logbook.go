package daemon

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cmcsync/cmcsync/daemon/history"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/web"
)

// Bounds of what the logbook keeps in memory (the history log on disk is
// bounded by history.DefaultMaxBytes per segment).
const (
	maxEvents = 1000                    // the newest events
	maxRounds = web.DefaultRoundHistory // the newest rounds from before this start
)

// totals are the running totals the history keeps across restarts, since
// the chips were formatted.
type totals struct {
	Rounds         int64 `json:"rounds"`
	Commits        int64 `json:"commits"`
	NothingChanged int64 `json:"nothingChanged"`
	Interrupts     int64 `json:"interrupts"`
	Failovers      int64 `json:"failovers"`
	Purges         int64 `json:"purges"`
	Recoveries     int64 `json:"recoveries"`
	Errors         int64 `json:"errors"`
	BytesWritten   int64 `json:"bytesWritten"`
}

// plus returns the totals t plus what the engine counted since it opened
// and the bytes the daemon's rounds wrote since.
func (t totals) plus(c engine.Counters, bytesWritten int64) totals {
	return totals{
		Rounds: t.Rounds + c.Rounds, Commits: t.Commits + c.Commits, NothingChanged: t.NothingChanged + c.NothingChanged,
		Interrupts: t.Interrupts + c.Interrupts, Failovers: t.Failovers + c.Failovers, Purges: t.Purges + c.Purges,
		Recoveries: t.Recoveries + c.Recoveries, Errors: t.Errors + c.Errors, BytesWritten: t.BytesWritten + bytesWritten,
	}
}

// webCounters maps the totals to the page's counters. Failures are the
// engine's Errors: it counts every interrupted round there as well as in
// Interrupts (with its Status.LastError), and every failed one.
func (t totals) webCounters() web.Counters {
	return web.Counters{Rounds: uint64(t.Rounds), Failures: uint64(t.Errors),
		Failovers: uint64(t.Failovers), Purges: uint64(t.Purges), BytesWritten: t.BytesWritten}
}

// scrubResult is the outcome of a complete scrub of the backup store.
type scrubResult struct {
	Time       time.Time `json:"time"`
	Generation uint64    `json:"generation"`
	Chunks     int       `json:"chunks"`
	Bad        int       `json:"bad"` // chunks that failed their digest
	// mono is when it ended on the monotonic clock (this run only).
	mono time.Duration
}

// entry is one record of the history log, as JSON: exactly one of its
// members is set, except that a round carries the totals after it.
type entry struct {
	Event  *web.Event   `json:"event,omitempty"`
	Round  *web.Round   `json:"round,omitempty"`
	Totals *totals      `json:"totals,omitempty"`
	Scrub  *scrubResult `json:"scrub,omitempty"`
}

// logbook is what the daemon keeps of its past: every event (the engine's,
// including those of its recovery at Open, and the daemon's own: starts,
// stops, failures to keep the history), every round with the totals after
// it, and every complete scrub, appended to the history log in the state
// folder, and the newest of them in memory. Events are written (write(2))
// as they happen, so a killed process loses none; the log is fsynced after
// each round and scrub and at start and stop, so a power cut loses at most
// the events of the round in progress.
//
// The history lives in the state folder, not in the flash store: it
// changes with every round (hundreds of bytes each time), and writing it
// to the backup chip would spend that chip's erase cycles on a log, not on
// the information it protects; a CMC keeps such logs on its persistent
// filesystem (UBIFS or an eMMC partition with its own wear levelling),
// where the token and the state folder live too.
type logbook struct {
	log  *history.Log // nil: kept in memory only
	logf func(format string, a ...any)
	// current returns the totals now; a new segment of the history log
	// begins with them (and the last scrub), so that rotation never drops
	// the only record of them. nil until the engine is open.
	current func() totals

	mu      sync.Mutex
	events  []web.Event // the newest maxEvents, oldest first
	past    []web.Round // the newest rounds from before this start
	base    totals      // totals at the last record before this start
	scrub   scrubResult // the newest complete scrub
	failing bool        // a write failed and was logged; logged again only after a success

	// A start that fails as the last one did is not written again (a
	// chip missing at boot, restarted every 5 s for as long as it
	// lasts, would fill the history with it and drop all before):
	// repeatFailure is the last start's failure (its "error" detail) if
	// the history ends with it, pendingStart this start's note until
	// something else is written (then it is written first), quiet set
	// once this start failed the same way (its stop is not written).
	repeatFailure string
	pendingStart  *web.Event
	quiet         bool
}

// openLogbook opens the history in dir ("" keeps it in memory only),
// loading the events, rounds, totals and last scrub kept there. Damage the
// history log reports (a torn last record) becomes an event. A log that
// cannot be opened at all leaves the history in memory only, with a
// "history" event saying so: the sync runs without it.
func openLogbook(dir string, logf func(string, ...any)) (*logbook, error) {
	b := &logbook{logf: logf}
	if dir == "" {
		return b, nil
	}
	log, loaded, err := history.Open(dir, history.Options{})
	if err != nil {
		// Not worth refusing the sync for (a state folder gone
		// read-only, as UBIFS does after an error): kept in memory.
		if logf != nil {
			logf("history: %v (the history is kept in memory only until a restart can open it)", err)
		}
		b.note("history", fmt.Sprintf("history log: %v; kept in memory only until a restart", err))
		return b, nil
	}
	b.log = log
	for _, rec := range loaded.Records {
		var e entry
		if json.Unmarshal(rec, &e) != nil {
			continue // a record of another version: skipped
		}
		b.load(e)
	}
	b.repeatFailure = lastStartFailure(b.events)
	for _, d := range loaded.Damage {
		b.note("history", "history log: "+d)
	}
	return b, nil
}

// startFailedPrefix begins the detail of the "error" note of a failed
// start.
const startFailedPrefix = "start failed: "

// lastStartFailure is the detail of the failure of the last start if the
// events end with it: "start", "error" (start failed), "stop"; else "".
func lastStartFailure(evs []web.Event) string {
	n := len(evs)
	if n < 3 || evs[n-3].Kind != "start" || evs[n-2].Kind != "error" || evs[n-1].Kind != "stop" ||
		!strings.HasPrefix(evs[n-2].Detail, startFailedPrefix) {
		return ""
	}
	return evs[n-2].Detail
}

// startNote notes a start (see note); after a failed start its log record
// waits for the next record (pendingStart).
func (b *logbook) startNote(detail string) {
	ev := web.Event{Time: time.Now(), Kind: "start", Detail: detail}
	b.mu.Lock()
	b.keepEvent(ev)
	pending := b.repeatFailure != "" && b.log != nil
	if pending {
		b.pendingStart = &ev
	}
	b.mu.Unlock()
	if !pending {
		b.append(entry{Event: &ev}, true)
	}
}

// failedStart notes that this start failed with err, unless it failed as
// the last start did and nothing else was written since it began: then
// nothing of it is written (nor its stop).
func (b *logbook) failedStart(err error) {
	detail := startFailedPrefix + err.Error()
	b.mu.Lock()
	repeat := b.pendingStart != nil && detail == b.repeatFailure
	if repeat {
		b.pendingStart, b.quiet = nil, true
	}
	b.mu.Unlock()
	if !repeat {
		b.note("error", detail)
	}
}

// stopNote notes the daemon's stop, unless its start failed as the last
// one did (failedStart).
func (b *logbook) stopNote() {
	b.mu.Lock()
	quiet := b.quiet
	b.mu.Unlock()
	if !quiet {
		b.note("stop", "daemon stopped")
	}
}

// load takes one entry of the history log into memory.
func (b *logbook) load(e entry) {
	if e.Event != nil {
		b.keepEvent(*e.Event)
	}
	if e.Round != nil {
		b.past = append(b.past, *e.Round)
		if len(b.past) > maxRounds {
			b.past = slices.Delete(b.past, 0, len(b.past)-maxRounds)
		}
	}
	if e.Totals != nil {
		b.base = *e.Totals
	}
	if e.Scrub != nil {
		b.scrub = *e.Scrub
	}
}

// keepEvent adds an event to the in-memory list; b.mu is held or b is not
// shared yet.
func (b *logbook) keepEvent(ev web.Event) {
	b.events = append(b.events, ev)
	if len(b.events) > maxEvents {
		b.events = slices.Delete(b.events, 0, len(b.events)-maxEvents)
	}
}

// event keeps an event and appends it to the history log.
func (b *logbook) event(ev web.Event) {
	b.mu.Lock()
	b.keepEvent(ev)
	b.mu.Unlock()
	b.append(entry{Event: &ev}, false)
}

// note keeps one of the daemon's own events ("start", "stop", "history",
// ...), stamped now, and syncs the log.
func (b *logbook) note(kind, detail string) {
	ev := web.Event{Time: time.Now(), Kind: kind, Detail: detail}
	b.mu.Lock()
	b.keepEvent(ev)
	b.mu.Unlock()
	b.append(entry{Event: &ev}, true)
}

// round appends a round with the totals after it, and syncs the log.
func (b *logbook) round(r web.Round, t totals) {
	b.append(entry{Round: &r, Totals: &t}, true)
}

// setTotals records totals without a round (after the engine opened, or
// after a format restarted them) and syncs the log.
func (b *logbook) setTotals(t totals) {
	b.append(entry{Totals: &t}, true)
}

// scrubbed keeps a complete scrub's result and syncs the log.
func (b *logbook) scrubbed(s scrubResult) {
	b.mu.Lock()
	b.scrub = s
	b.mu.Unlock()
	b.append(entry{Scrub: &s}, true)
}

// append writes one entry, and syncs the log if durable is set. A failure
// is logged once, until a write succeeds again: the history is not worth
// stopping the sync for.
func (b *logbook) append(e entry, durable bool) {
	if b.log == nil {
		return
	}
	b.mu.Lock()
	start := b.pendingStart
	b.pendingStart = nil
	b.mu.Unlock()
	if start != nil {
		b.append(entry{Event: start}, false)
	}
	rec, err := json.Marshal(e)
	rotated := false
	if err == nil {
		rotated, err = b.log.Append(rec)
	}
	if err == nil && rotated {
		err = b.carryOver()
	}
	if err == nil && durable {
		err = b.log.Sync()
	}
	b.mu.Lock()
	report := err != nil && !b.failing
	b.failing = err != nil
	b.mu.Unlock()
	if report && b.logf != nil {
		b.logf("history: %v (the page's history may miss entries until it can write again)", err)
	}
}

// carryOver begins a new segment of the history log with the totals and
// the last scrub.
func (b *logbook) carryOver() error {
	b.mu.Lock()
	current, scrub := b.current, b.scrub
	b.mu.Unlock()
	var carry entry
	if current != nil {
		t := current()
		carry.Totals = &t
	}
	if !scrub.Time.IsZero() {
		carry.Scrub = &scrub
	}
	if carry.Totals == nil && carry.Scrub == nil {
		return nil
	}
	rec, err := json.Marshal(carry)
	if err == nil {
		_, err = b.log.Append(rec)
	}
	return err
}

// allEvents returns the kept events, oldest first.
func (b *logbook) allEvents() []web.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.events)
}

// pastRounds returns the rounds kept from before this start, oldest first.
func (b *logbook) pastRounds() []web.Round {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.past)
}

// baseTotals returns the totals at the last record before this start.
func (b *logbook) baseTotals() totals {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.base
}

// resetTotals starts the totals from zero (the chips were formatted).
func (b *logbook) resetTotals() {
	b.mu.Lock()
	b.base = totals{}
	b.mu.Unlock()
}

// lastScrub returns the newest complete scrub (zero Time: none).
func (b *logbook) lastScrub() scrubResult {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.scrub
}

// close syncs and closes the history log.
func (b *logbook) close() error {
	if b.log == nil {
		return nil
	}
	if err := b.log.Close(); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return nil
}

// webEvent maps one of the engine's events.
func webEvent(ev engine.Event) web.Event {
	return web.Event{Time: ev.Time, Kind: string(ev.Kind), Generation: ev.Generation, Detail: ev.Detail}
}
