// Package hal is cmcsync's hardware abstraction layer for flash memory.
//
// A [Flash] reads (io.ReaderAt), programs (io.WriterAt, program only: never
// an implicit erase), erases whole erase blocks and reports its [Geometry].
// Abilities that only some devices have — bad-block management, closing,
// operation statistics — are separate small interfaces, reached through the
// helpers [IsBad], [MarkBad], [Close] and [StatsOf], in the way io/fs does it.
//
// Every failure is an [*OpError] that wraps one of the sentinel errors
// ([ErrUnaligned], [ErrOutOfRange], [ErrBadBlock], [ErrWornOut], [ErrMedia],
// [ErrPowerLoss], [ErrTimeout], ...) so callers test with errors.Is.
//
// Time is a dependency too: code that waits or measures takes a [Clock], so a
// simulator can run it on virtual time.
//
// hal imports nothing else of cmcsync; every backend (the simulator in
// package sim, Linux MTD in package hal/mtd) and every user (the sync engine)
// meets here. Package hal/haltest states the contract as a conformance suite.
package hal
