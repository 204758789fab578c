// Package campaign runs fault campaigns against the sync engine and judges
// every run with an oracle of the eleven invariants of docs/DESIGN.md,
// Invariants.
//
// A [Scenario] ("standard": generator information on an 8 MiB region of
// MX66L1G45G chips, synced once, then the round that follows a typical
// interval's changes; "small", the same smaller; "longrun", a long
// history on a small store) is set up once with the real engine. The
// round under test is then recorded once per engine variant (mutant), with
// a copy-on-write snapshot of both simulated chips before every flash
// operation (programs split into page-program commands, as an SPI NOR
// driver issues them) and the injector's answer to each (faults.Answer).
//
// Exhaustive mode branches from those snapshots instead of replaying
// prefixes: for every operation a clean power cut, and for programs and
// erases three torn variants (some bits, all bits but one, torn with
// unstable reads). The faults after which the engine keeps running are run
// as cases, from the recorded first half of the round when they strike
// after it: a failed read at every read of the primary; silent erase
// failures (unchanged, partly erased) at every backup erase; weak programs
// (read right once) at every journal program and every eighth chunk
// program; the primary corrupted at every read of the collect step (the
// bytes about to be read) and, during the writes, a record header and a
// payload already read at every eighth backup write and the image header
// at every 32nd; every probe of the primary answered after exactly the
// threshold, a tick less and a tick more; the primary dying at every
// probe; and backup damage before the engine opens ([Case.Before]: a bit
// of every journal record's header and of every fourth one's body, the
// last record written over an earlier one mid-block too (misdirected), of
// each superblock copy, whole blocks scribbled, an unchanged committed
// chunk of each type, the free blocks past the allocation cursor); the
// round stopped by its context (faults.Cancel: a daemon's shutdown, a new
// configuration) at every 16th backup write, the backup's erases failing
// loudly or silently from there; every erase of the journal area, or
// of the data area, silent from the round's first erase there; and, after
// the fault-free round, the backup's last journal record fading as the
// recovery opens (fadeopen.go: it reads right once, then differently, so
// the open must judge it once). Depth 2
// also records the recovery after each cut and cuts at every operation of
// it. Random mode draws seeded schedules mixing all of these, and faults
// in the recovery. The long run ("longrun") runs the engine, restarted
// before each round, until the journal has compacted into the other area
// three times and the allocation cursor has wrapped; the campaign cuts,
// tears, fails silently and weakens every operation of the compacting
// rounds and of two rounds that reuse dirty blocks ("longrun@K" is round
// K), and runs one of them with the backup re-imaged from a dump of the
// primary ("longrun@K/swapped", the chips given the other way round, is
// refused by the engine's identity check and is no campaign bench). The
// lifecycle ("lifecycle", lifecycle.go) records the daemon's life around
// the rounds — format, first round, configuration change, upgrades,
// scrub and repair, restart — and cuts every operation of it, judged by
// invariants of its own (LifecycleInvariants). "oldformat" (oldformat.go)
// is the small round on a store made format version 2 right after the
// format: the round under test upgrades it before its first deltas.
// "dense" and "denselimit" (dense.go) change a run in every chunk each
// round of a long history: delta blocks filled exactly, chains at the
// delta-chain limit, the delta budget folding chunks; "densewhole"
// (staletable.go) writes that history leaving the change tables stale, so
// rounds read records whole and its round under test releases delta
// blocks by writing their chunks whole; "densemany" is one round of more
// short delta records than one intent-deltas record lists; "densecap" is
// a history of short deltas on a 4 MiB region whose record count meets
// the store's delta record cap. "v3chain" and "v4chain" (oldstore.go)
// start from chip pairs an older cmcsync wrote in format version 3 and 4
// (testdata/oldstores): the round under test reads their version 3 delta
// chains, upgrades the store and extends them. Workers, one per core,
// each own a pair of chips per scenario round to branch into.
//
// After the faults, the oracle restarts the engine on what the chips hold
// (engine.Open runs recovery) and judges from the flash contents, decoded
// by faults/reference (never by sync/store: a replay bug of the store
// cannot hide from it) as a reader that knows each chip's identity, as
// the engine does (reference.DecodeAs: chip A is chip id 0, chip B chip
// id 1, the pair the other chip's store carries; identity.go), so that of
// two superblock copies that differ the one the engine must use is
// judged, the engine's public Status and Events, and the injector's
// trace:
//
//   - atomic: the backup's committed information is exactly one
//     generation, every chunk read back and compared with the primary's
//     bytes by a 64-bit fingerprint; a chunk holding the other
//     generation's bytes is a mix; a chunk the faults damaged after it was
//     committed (a flip, a weak program) passes only if the engine
//     reported damage;
//   - durable: nothing committed before the round, reported committed by
//     it, or held on the backup after the fault is lost (but what damage
//     before the round destroyed);
//   - purged: nothing of an interrupted round stays pending, every data
//     block it wrote or erased reads erased, purge-verified was
//     reported; the recovery counts one recovery per interrupted round
//     it found (its counter equals its recovery events, at least one when
//     the reference decoder read a round pending, none when neither store
//     holds one); a read-only open before the recovery (as `inspect`
//     makes) reports the pending round and writes nothing; a round
//     stopped by its context whose purge was not verified after the
//     faults failed a backup erase says so: its error carries more than
//     the context's (checks_stopped.go);
//   - reinit: after a purge the configuration is the one committed with
//     the last good generation;
//   - failover: made if and only if the primary left the backup waiting
//     beyond the threshold — a wait runs from the first request to the
//     primary not answered correctly in time (failed, slower than the
//     threshold, or returning bytes a flip or scribble changed) to the end
//     of the first correct answer, on the virtual clock, from the
//     injector's answers alone (unless power was lost while it was made,
//     or the faults defeated each of the engine's two tries of the role
//     record after the wait passed the threshold and the round reported
//     the error: then either chip may be active); which chip is active
//     (the newest role in both stores) survives the restart; after a
//     failover the active chip's region holds the last committed
//     generation; a round that raised the primary-corrupt alarm ends
//     interrupted only once a request for what read corrupt was answered
//     correctly (else the wait it opened is still running);
//   - primary-untouched: no program or erase reached the primary (but,
//     in a live round that retried a failover's pending restore, those
//     into its information region and the role record completing the
//     restore in its store's journal);
//   - live: once faults stop (the primary's damaged bytes healed), the next
//     round commits and the backup then holds the primary's information —
//     after a failover, the last committed generation, not whatever the new
//     active chip holds; and a round whose only faults are silent erase
//     failures and weak programs of the backup, fewer than [EraseTries]
//     striking any one erase block, commits (the method retries them:
//     retried.go);
//   - bounded-wear: no block erased more than [WearBound] times by the
//     round and its recoveries (once more per erase of it the faults
//     failed, per program into it the faults failed or left weak — flash
//     is erased before a page is programmed again — per power cut, and per
//     phase whose faults failed every erase try of a block: see
//     [EraseTries]), nor by the live round; a round error saying a
//     block does not read erased after N erases says N = EraseTries, and
//     the trace shows that many silent erases of that block;
//   - interrupt-bound: once the primary is anomalous during the round's
//     writes, the round issues at most 96 further backup programs and
//     erases (the bound the engine's 20 ms probe interval allows on the
//     campaigns' part, derived in interruptBound); after the request that
//     showed the anomaly (for a primary already anomalous when the writes
//     began, the first request of that wait) only chunk-data programs
//     count, not the failover's and restore's writes; nor does the
//     re-program (erase and programs) of a chunk a program the faults left
//     weak or an erase they made fail silently spoiled, one per such write.
//
// The round's engine tells the truth: its counters of failovers,
// primary-corrupt alarms, interruptions and commits (Status.Counters)
// equal its events of those kinds, which the checks above judge against
// the injector's trace (reported.go); a disagreement fails the invariant
// the counter is about.
//
// A backup store the damage left undecodable, or naming another chip or
// pair (re-imaged), may be refused: an error and nothing written is
// correct. Each invariant is one check (checks.go, failover.go,
// interrupt.go, live.go, refusal.go); a [Verdict] says what it saw, or
// that it was skipped. [SelfTest] makes the state after a run wrong in
// each invariant's way and shows that invariant fires.
//
// Every run is a [Case] whose String is a one-line replay; [Replay] runs a
// case from the base without branching and returns every invariant's
// [Verdict], [ReplayStory] also what happened (the round's outcome and
// events, the waits, which rules acted at which operations, and those that
// never matched); tests prove that branching and replaying agree. Reports
// ([Report]) are JSON, shardable ([Shard]) and merge with [Merge].
//
// A report depends on the campaign's options alone, not on the number of
// workers or on timing: jobs are handed out in index order, a chunk of
// consecutive ones (a quarter of them, 16 to 256) to a worker at a time;
// results are counted in index order (the violations listed are the first
// ones, a StopAfter campaign stops after the same job); and the live-round
// memo starts empty with each chunk. Random cases are drawn when their job
// runs, so a campaign's memory does not grow with its count.
//
// Caches keep the oracle cheap without changing what it sees, and are
// bounded (each starts afresh when full), so the heap stays flat however
// many schedules run (TestHeapFlat): block
// fingerprints are cached by the simulator's block version (never reused for
// different contents), those of the base state once per bench for all
// workers, decoded store views by the contents of the store's metadata
// (shared by a bench's workers: the reference decoder reads whole journal
// areas), and the live round's verdict by the contents of every block
// written or damaged since the base, the recovery's own operations and the
// engine's configuration and generation, within a chunk of jobs
// ([Report.LiveRounds] says how many live rounds really ran); comparisons
// of a store with a generation by the view, the generation's contents and
// the blocks written; committed payloads the reference decoder read back
// by the view and the versions of the blocks their chunks and deltas
// occupy (a worker's, up to 32 MiB), and what the failover check read of
// chip B's information region by the versions of all its blocks (the
// last one), both with stable cells only; the oracle's own reads are
// undone (snapshot and restore) so that they cannot change what the
// engine later reads from unstable cells. Each engine the oracle opens is released afterwards
// (engine.Engine.Release), so the next one reuses its buffers.
package campaign
