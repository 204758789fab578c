// Package engine is the reference implementation of the primary/backup
// image information sync method (docs/DESIGN.md, The method), on the hal
// interface only (docs/DESIGN.md, HAL contract), with a clock as a
// dependency so the same code runs in virtual time on the simulator and in
// real time on /dev/mtd.
//
// Two chips each hold a firmware image (its header is the health probe),
// an information region (sync/info: where the CMC's services keep the live
// information) and a backup store (sync/store). The active chip's region
// is the source; the other chip's store is the target. Roles are logical:
// after a failover the backup chip is active and rounds sync from it to the
// other chip.
//
// A round: probe the primary; collect the round's group of chosen types;
// write only the chunks whose digests changed since the last committed
// generation (intent, data, commit record); probe the primary between
// writes. On an anomaly (a read error, a bad or changed image header, a
// record that reads corrupt, a response slower than the threshold):
// interrupt, measure the wait-response time by probing every few ms (a
// corrupt answer counts as no answer), fail over if it exceeds the
// threshold, purge the round's blocks and confirm, reinit the
// configuration from the last committed generation. Open runs the same
// purge-then-reinit for a round cut by power loss, checks that each chip
// carries the identity of its configured role, and completes a
// restore-defaults cut short. ScrubStep checks the backup's committed
// chunks a chunk at a time and has damage repaired by the next round.
//
// Round is Prepare (probe, collect, check and hash: nothing written) then
// Apply (everything else). A Prepared round is immutable and applies on
// any engine opened on the same flash contents, which lets a fault
// harness branch many engines from one collection. Run keeps the schedule
// (Options.OnRound sees each scheduled round; a configuration change wakes
// it); Options.PrimaryLock lets CMC services hold their writes to the
// information region while a round runs.
//
// Mutants (Options.Mutant) are deliberately broken variants for the fault
// harness, which alone sets them; None is the real engine.
package engine
