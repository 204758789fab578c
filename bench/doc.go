// Package bench measures what one sync of a CMC's information region costs
// on real SPI NOR flash parts, in the simulator's virtual time, and compares
// the cmcsync engine with what engineers use today and with the physics:
//
//   - engine: the cmcsync engine (sync/engine), one Round after the change,
//     with every type in every round and no read-back verify (the defaults);
//   - flashcp: a full copy as mtd-utils flashcp does it — erase the whole
//     region in one request, program everything, read it back to verify
//     ([FullCopy]); the simulator serves the one erase request with 64 KiB
//     block erases, flashcp's best case;
//   - flashcp-p: a per-erase-block diff in place as flashcp -p (and, per
//     block, flashrom) does it — read each block of source and destination,
//     erase and reprogram only blocks that differ ([BlockDiff]);
//   - floor: the least erases and page programs the changed bytes need at
//     erase-unit granularity, plus reading the information once ([Floor],
//     where the definition is spelled out).
//
// # What is measured
//
// A scenario is a part profile, a timing corner (typical or max) and an
// info region size (1, 8, 32 MiB). Its start state is a CMC that has run for
// two days — log rings full and wrapping — synced to the backup, with the
// engine's store in steady state: a fresh store writes into pre-erased
// blocks and defers its erases, so before measuring, the bench churns the
// store with full rewrites until a round erases a block for every chunk it
// writes. Workloads ([Workload]) then change the primary's region and each
// strategy syncs it: CMC activity between syncs (event and fault logs
// appending, fan and power readings moving, node and asset information
// changing now and then: cmcsim.Generator.Step), the same while the logs are
// still filling ("-filling": new entries land in erased space), and
// synthetic change sets of 0.1% to 100% of the payload bytes, clustered or
// scattered (cmcsim.Generator.Mutate). A change set is computed once per run
// and replayed on every part, so all strategies and parts see the same
// bytes change.
//
// [Run] returns a [Report]: one [Row] per strategy and scenario (simulated
// seconds, erases, page programs, bytes read, write amplification, worst
// block wear, host CPU time, ratio to the floor, and where the time went:
// reads, programs, erases), the scenarios or strategies skipped (a region
// too large for a part, or for the engine's layout), and the issue's
// targets judged on the rows ([Judge]). The report prints as a table or
// JSON and draws plots ([Report.WritePlots]). `cmcsync bench` is the
// command line; BenchmarkSync in this package reports the same figures with
// b.ReportMetric for benchstat.
//
// Everything is deterministic for a seed: the same Config gives the same
// rows except host CPU time. Scenarios run in parallel on every CPU.
package bench
