// Package bench measures what one sync of a CMC's information region costs
// on real SPI NOR flash parts, in the simulator's virtual time, under the
// erase behaviour Linux's MTD layer delivers, and compares the cmcsync
// engine with what engineers use today and with two floors:
//
//   - engine: the cmcsync engine (sync/engine), one Round after the change,
//     with every type in every round and no read-back verify (the defaults);
//   - flashcp: a full copy as mtd-utils flashcp does it — erase the whole
//     region in one request, program everything, read it back to verify
//     ([FullCopy]); Linux serves the one request with one command per
//     erase unit;
//   - flashcp-p: a per-erase-block diff in place as flashcp -p does it —
//     read each block of source and destination, erase and reprogram every
//     block that differs and read it back to verify ([BlockDiff]);
//   - flashrom: flashrom's finer diff — erase a block only where a bit must
//     go from 0 to 1, program only the pages that differ, then read the
//     range back to verify as flashrom does by default ([Flashrom], which
//     says how it differs from flashcp -p and from stock flashrom);
//   - rewrite-floor: the least time of a writer that rewrites whole erase
//     units and reads the whole region ([RewriteFloor]);
//   - the physical floor, carried on every row: the least device time in
//     which any writer could put the new information on the backup — read
//     only the changed bytes, program them, erase that much, amortised
//     ([PhysicalFloor]).
//
// Every row reports the round's latency (what it waits for) and its device
// time (latency plus its share of work done outside it), and the physical
// floor's device time and latency beside them (see [Row]).
//
// # Erase models
//
// The erase unit is the Linux MTD layer's (sim.EraseModel, which cites the
// kernel source): "4k", the 4 KiB sector, as a kernel built with
// CONFIG_MTD_SPI_NOR_USE_4K_SECTORS (the project's QEMU image) erases —
// an aligned 64 KiB erase is 16 sector erases —; or "64k", the 64 KiB
// block, a kernel built without it, where the chip reports a 64 KiB erase
// size and the engine's store uses 64 KiB chunks. Both run by default, a
// dimension of the matrix beside part, timing corner and region size.
//
// # What is measured
//
// A scenario is a part profile, a timing corner (typical or max), an erase
// model and an info region size (1, 8, 32 MiB). Its start state is a CMC
// that has run for two days — log rings full and wrapping — synced to the
// backup, with the engine's store in steady state: a fresh store writes into
// pre-erased blocks and defers its erases, so before measuring, the bench
// churns the store with full rewrites until a round erases a block for every
// chunk it writes. Workloads ([Workload]) then change the primary's region
// and each strategy syncs it: CMC activity between syncs (event and fault
// logs appending, fan and power readings moving, node and asset information
// changing now and then: cmcsim.Generator.Step), the same while the logs are
// still filling ("-filling": new entries land in erased space), and
// synthetic change sets of 0.1% to 100% of the payload bytes, clustered or
// scattered (cmcsim.Generator.Mutate). A change set is computed once per run
// and erase model (the region's layout depends on the erase unit) and
// replayed on every part, so all strategies and parts see the same bytes
// change.
//
// [Run] returns a [Report]: one [Row] per strategy and scenario (latency and
// device seconds, the physical floor's, erases, page programs, bytes read,
// write amplification, worst block wear, host CPU time, ratios to the
// floors, and where the time went: reads, programs, erases), the scenarios
// or strategies skipped (a region too large for a part, or for the
// engine's layout), and the performance targets judged on the engine's rows
// ([Judge]: gated on the 4k model, reported for 64k). The report prints as
// a table or JSON and draws plots ([Report.WritePlots]). `cmcsync bench` is
// the command line (`--check` fails on a missed target); BenchmarkSync in
// this package reports the same figures with b.ReportMetric for benchstat.
//
// # Part profiles
//
// Besides the table's parts (Config.Parts), Config.Profiles benchmarks
// parts given by value, such as the profiles `cmcsync calibrate` measures
// on a real chip (`cmcsync bench --part-file PATH`). Each goes through
// CheckProfile: a profile physically implausible for NOR flash
// (sim.Part.CheckPlausible — an emulator's instant erase, say) is refused
// unless Config.AllowImplausible, which runs it and puts a warning in
// Report.Warnings. An erase model a profile lacks (64k, for a profile
// calibrated under 4 KiB sectors) is skipped with the reason.
//
// Everything is deterministic for a seed: the same Config gives the same
// rows except host CPU time. Scenarios run in parallel on every CPU.
package bench
