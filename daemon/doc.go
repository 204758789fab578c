// Package daemon is cmcsync's sync daemon: the engine (package
// sync/engine) over two opened chips, run on its schedule, with what a
// demonstration on simulated chips adds, and served to the selection page
// and JSON API (package web) through an adapter.
//
// Open applies the chip policy (which chips are new and get formatted,
// when to refuse), Run runs the schedule and, on simulated chips, the
// simulated CMC that keeps changing the primary's information until its
// context ends, and Close closes the chips. Backend adapts the daemon to
// web.Backend; SetRecorder says where the rounds the daemon runs on its
// own are reported (the web.Server serving Backend).
//
// One file per concern: open.go (chip policy), schedule.go (scheduled and
// on-demand rounds), cmc.go (the simulated CMC), upgrade.go (simulated
// image upgrades), backend.go (the web adapter). The method the engine
// implements is described in docs/DESIGN.md, The method; the simulated
// CMC in docs/DESIGN.md, Simulator.
package daemon
