// Package faults injects flash faults from schedules that are plain values.
//
// A [Schedule] is a seed and a list of [Rule]s; each rule pairs a [Pred]
// (which flash operations it matches: at operation N, every N, randomly with
// probability p, in an address range, on the primary or the backup, by
// operation kind, combined with and/or/not) with an [Action] (what happens:
// a power cut, a torn program or erase, bit flips or scribbles in a region,
// a range written over another range too (a misdirected write), added
// virtual latency, a media error, a block going bad or wearing out, an
// erase that silently fails, a weak program that reads right once, cells
// turned marginal (read right once), a chip
// re-imaged from a dump of the other, the caller's context cancelled).
//
// A schedule prints as one line and parses back to an equal value, in the
// style of Pebble's vfs/errorfs, so any failure replays from that line:
//
//	(seed 7) (on (and backup program (at 41)) (torn bits unstable))
//
// An [Injector] applies a schedule to one or more devices wrapped by
// [Injector.Wrap]; the wrappers count operations globally (across devices,
// from 0) and share one power rail: once a cut or a torn operation fires,
// every later operation on every wrapped device fails with hal.ErrPowerLoss.
// A [Trace] hook sees each operation before it runs, which a campaign uses to
// take snapshots at every operation of a recorded run; an Answered hook
// sees how each one ended ([Answer]: its virtual start and end time, its
// error, and whether a read returned bytes a flip or scribble changed), the
// plain facts from which an oracle judges how long a device left its
// caller waiting for a correct answer.
//
// The package knows flash operations, never a sync engine's on-flash format:
// regions for corruption are given as plain address ranges.
package faults
