// Package cmcsim is the simulated CMC: a seeded generator of CMC
// information and activity, writing a primary information region
// (package sync/info) the way a chassis management controller's services
// do.
//
// [New] returns a [Generator] seeded with one value (math/rand/v2 PCG)
// that drives every choice, so the same seed applied to the same region
// produces the same bytes. [Generator.Populate] fills every information
// type (populated PSU, fan, node and FRU records; rings 80% full),
// [Generator.Step] applies a duration of CMC activity — about 1% of the
// region's payload bytes change per [TypicalInterval] (10 minutes): SEL and
// fault log entries appended, readings and telemetry moving, node state
// changes now and then, asset (IPMI FRU) changes rarely — and
// [Generator.Mutate] applies a synthetic change set of a given fraction,
// clustered or scattered, for benchmarks. The generator's virtual clock
// starts at [Epoch].
//
// Payloads are written in info's table format (info.Table) through
// info.Region, so every record stays valid. This package imports only
// sync/info and the standard library; it must not import sync/engine
// (whose tests use it).
package cmcsim
