// Package campaign runs fault campaigns against the sync engine and judges
// every run with an oracle of the eight invariants of docs/DESIGN.md,
// Invariants.
//
// A [Scenario] (the "standard" one: generator information on an 8 MiB
// region of MX66L1G45G chips, synced once, then the round that follows a
// typical interval's changes) is set up once with the real engine. The
// round under test is then recorded once per engine variant (mutant), with
// a copy-on-write snapshot of both simulated chips before every flash
// operation (programs split into page-program commands, as an SPI NOR
// driver issues them).
//
// Exhaustive mode branches from those snapshots instead of replaying
// prefixes: for every operation a clean power cut, and for programs and
// erases three torn variants (some bits, all bits but one, torn with
// unstable reads); for the primary's reads a failed read (an anomaly whose
// wait-response stays below the threshold). Depth 2 also records the
// recovery after each cut and cuts at every operation of it. Random mode
// draws seeded mixed schedules and runs each from the base. Workers, one per
// core, each own a pair of chips to branch into.
//
// After the faults, the oracle restarts the engine on what the chips hold
// (engine.Open runs recovery) and checks, through the store's read-only
// decoder, the engine's public Status and Events, and the flash contents:
// atomic (the backup's committed information is exactly one generation,
// every chunk read back and compared with the primary's bytes by a 64-bit
// fingerprint), durable (nothing committed is lost), purged (nothing of
// an interrupted round stays pending, every data block it wrote reads
// erased, and purge-verified was reported), reinit (the configuration
// after a purge is the one committed with the last good generation),
// failover (none without a wait beyond the threshold; the active chip
// survives power loss), primary untouched (no program or erase reached the
// active primary), live (the next round succeeds and leaves the primary's
// current information on the backup) and bounded wear (no block erased
// more than [WearBound] times by the round and its recoveries, nor by the
// live round). Each invariant is one check (checks.go, live.go); a
// [Verdict] says what it saw, or that it was skipped.
//
// Every run is a [Case] whose String is a one-line replay; [Replay] runs a
// case from the base without branching and returns every invariant's
// [Verdict], and a test proves that branching and replaying agree. Reports
// ([Report]) are JSON, shardable ([Shard]) and merge with [Merge].
//
// Caches keep the oracle cheap without changing what it sees: block
// fingerprints are cached by the simulator's block version (never reused for
// different contents), those of the base state once per bench for all
// workers, decoded store views by the contents of the store's
// metadata blocks, and the live round's verdict by the contents of every
// block written since the base, the recovery's own operations and the
// engine's configuration and generation ([Report.LiveRounds] says how many
// live rounds really ran); the oracle's own reads are undone (snapshot and
// restore) so that they cannot change what the engine later reads from
// unstable cells. Each engine the oracle opens is released afterwards
// (engine.Engine.Release), so the next one reuses its buffers.
package campaign
