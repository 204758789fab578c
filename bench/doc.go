// Package bench measures what one sync of a CMC's information region costs
// on real SPI NOR flash parts, in the simulator's virtual time, and compares
// the cmcsync engine with what engineers use today and with the physics:
//
//   - engine: the cmcsync engine (sync/engine), one Round after the change;
//   - flashcp: a full copy as mtd-utils flashcp does it — erase the whole
//     region, program everything, read it back to verify ([FullCopy]);
//   - flashcp-p: a per-erase-block diff in place as flashcp -p (and, per
//     block, flashrom) does it — read each block of source and destination,
//     erase and reprogram only blocks that differ ([BlockDiff]);
//   - floor: the least erases and page programs the changed bytes need
//     in place, plus reading the source once at the part's bus rate
//     ([Floor], where the definition is spelled out).
//
// Workloads ([Workload]) are CMC activity between syncs (event and fault
// logs appending, fan and power readings moving, node and asset information
// changing now and then: info.Generator.Step) and synthetic change sets of
// 0.1% to 100% of the payload bytes, clustered or scattered
// (info.Generator.Mutate), on info regions of 1, 8 and 32 MiB, on every NOR
// part profile of package sim at typical and maximum timings.
//
// [Run] returns a [Report]: one [Row] per strategy and scenario (simulated
// seconds, erases, page programs, bytes read, write amplification, worst
// block wear, host CPU time, ratio to the floor, and where the time went),
// the scenarios skipped (a region that does not fit a part), and the
// issue's targets judged on the rows ([Judge]). The report prints as a
// table or JSON and draws plots ([Report.WritePlots]). `cmcsync bench` is
// the command line; the Go benchmarks in this package report the same
// figures with b.ReportMetric for benchstat.
//
// Everything is deterministic for a seed: the same Config gives the same
// rows (except host CPU time).
package bench
