// Package daemon is cmcsync's sync daemon: the engine (package
// sync/engine) over two opened chips, run on its schedule, with what a
// demonstration on simulated chips adds, and served to the selection page
// and JSON API (package web) through an adapter.
//
// Open applies the chip policy (which chips are new and get formatted,
// when to refuse, a cut format redone), Run runs the schedule and, on
// simulated chips, the simulated CMC that keeps changing the primary's
// information, and the scrub schedule, until its context ends, and Close
// closes the chips. Backend adapts the daemon to web.Backend (and
// web.FlashReporter, for /metrics); SetRecorder says where the rounds the
// daemon runs on its own are reported (the web.Server serving Backend).
//
// # Rounds belong to the daemon
//
// Every round runs under the daemon's own context, never under the
// context of the request that asked for it: a client that goes away does
// not interrupt a round. Only an anomaly of the primary, a shutdown or a
// power cut does.
//
// # Flash writes the API can cause
//
// A configuration PUT that changes nothing writes nothing. Every write the
// API can cause (a configuration change, a round run on request) spends a
// token of a wear budget (Budget, DefaultBudget: a burst of 30, then one a
// minute); beyond it the API answers 429 with Retry-After.
//
// # History
//
// Events (the engine's, including those of its recovery at Open, and the
// daemon's own), rounds with the running totals after them, and scrubs
// are kept in a history log in the state folder (package daemon/history:
// append-only, a CRC per record, two segments of 1 MiB rotated, a torn
// last record ignored), so the page shows what happened before a restart,
// a kill or a power cut. It lives in the state folder, on the CMC's
// persistent filesystem, not in the flash store: it changes at every
// round, and written to the backup chip it would spend that chip's erase
// cycles on a log rather than on the information the chip protects; a
// CMC's persistent filesystem (UBIFS, or an eMMC partition) levels its own
// wear and holds the API token already.
//
// # Power-safe first start
//
// Simulated chips' image files are created at full size atomically (sim),
// and a format-in-progress marker (MarkerFile) is kept in the state folder
// while the chips are formatted, so a start killed (or left without disk
// space) while formatting is completed by the next plain start; a chip
// that holds committed data is never formatted without Options.Format.
//
// # One clock
//
// On simulated chips the engine's clock is flashClock: the chips'
// datasheet time (and a fault's delay) moves it at once; otherwise it
// follows the wall clock (real time with Options.Pace). It measures
// durations and waits only: every date (events, rounds, the sync time and
// next sync, the last scrub, the schedule) is the wall clock's (see
// flashClock). Options.Faults
// injects a fault schedule (package faults) into the simulated chips, so
// the method's anomaly path (interrupt, wait-response against the
// threshold, failover, purge, reinit) shows on the page. The daemon's own
// timers (the simulated CMC's steps, the scrub schedule, the wear budget)
// measure monotonic time, so wall-clock steps neither hasten nor delay
// them.
//
// # One daemon per state folder
//
// Open locks the state folder (LockFile) before it reads or writes
// anything there and Close releases it: a second daemon on the folder is
// refused (ErrStateInUse, devlock.ErrBusy). A history that cannot be
// opened (a read-only folder) is kept in memory; the sync runs.
//
// One file per concern: open.go (chip policy), statelock.go (the state
// folder's lock), marker.go (the format marker), chips.go (opening and wrapping the chips: pacing, faults),
// clock.go (the engine's clock), schedule.go (scheduled and on-demand
// rounds), config.go (configuration changes), budget.go (the wear budget),
// logbook.go (the history), health.go (flash health for /metrics),
// scrub.go (the scrub schedule), cmc.go (the simulated CMC), upgrade.go
// (simulated image upgrades), backend.go (the web adapter). The method the
// engine implements is described in docs/DESIGN.md, The method; the
// simulated CMC in docs/DESIGN.md, Simulator.
package daemon
