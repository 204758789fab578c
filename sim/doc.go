// Package sim is a timing-accurate flash simulator: a hal.Flash that behaves
// like a chosen SPI NOR or SPI NAND part, only stricter, and charges every
// operation that part's datasheet time on a virtual clock.
//
// Rules (every violation is a *hal.OpError wrapping a hal sentinel, and a
// rejected operation changes nothing and charges nothing):
//   - NOR: any byte range may be programmed any number of times; the result
//     is old AND new. Programs may cross pages and blocks.
//   - NAND: WriteSize is the page; pages are programmed whole, at most once
//     per erase, in increasing order within an erase block (else ErrNAND);
//     blocks may be marked bad (MarkBad), after which every operation
//     touching them fails with ErrBadBlock.
//   - Erase sets 0xFF and counts wear per erase block; once a block has been
//     erased Part.Endurance times, erasing it fails with ErrWornOut.
//   - Range and alignment are checked with hal.CheckRange, CheckProgram and
//     CheckErase.
//
// Timing (Part.Typical, or Part.Max with Options.MaxTiming; part.go says
// where every value comes from): a read costs CommandOverhead +
// bytes/ReadBytesPerSec, plus PageRead per NAND page touched; a program
// costs CommandOverhead + PageProgram per program page touched plus the
// bytes' bus transfer; an erase costs one command, CommandOverhead +
// Timing.UnitErase, per erase unit. The erase unit is the geometry's
// EraseSize, set by Options.EraseModel: the 4 KiB sector (Erase4K, the
// default, as Linux's spi-nor core erases with CONFIG_MTD_SPI_NOR_USE_4K_SECTORS)
// or the 64 KiB block (Erase64K, a kernel without it); see EraseModel for
// the kernel source. An aligned 64 KiB erase under Erase4K is 16 sector
// erases, never one block erase. The cost advances the chip's Clock (which
// chips may share) and Stats().Elapsed.
//
// With Options.Spread each array operation (page program, erase unit, NAND
// page read) draws its own time between Part.Typical and Part.Max, seeded
// by Options.Seed: most near typical, a tail toward the maximum (spread.go
// documents the distribution). It is off by default, so every figure above
// is exact unless asked for.
//
// # Part profiles
//
// A part profile file (Profile: JSON, ProfileFormat) carries a Part and
// where its figures come from; `cmcsync calibrate` writes one from a real
// chip's measurements, LoadProfile reads one. Its durations are float
// seconds in members ending _seconds (ProfileFormat,
// cmcsync-part-profile/2; docs/schema/part-profile.json); files of the
// first format (ProfileFormatV1, microseconds in _us members) are still
// read and converted. Profile.Part checks that a
// profile is well-formed; Part.CheckPlausible, whether its figures are
// physically possible for NOR or NAND flash (an emulator's instant erase is
// not).
//
// A power cut during a multi-unit erase, as Linux issues it, leaves the
// units before the cut erased, the unit in progress partly erased and the
// rest untouched. The simulator's Erase is atomic; a fault harness gets
// that behaviour by issuing each erase unit (Geometry().EraseSize) as an
// operation of its own and tearing the one in progress (package faults,
// Options.SplitPages without a BlockEraseSize).
//
// Snapshots are copy-on-write by erase block: Snapshot is O(1), the first
// change of a block afterwards copies it, and Restore is O(1) in memory, so
// a fault campaign can branch before every operation. BlockVersion lets a
// harness cache per-block digests across snapshots.
//
// Harness abilities for fault injection: Poke stores raw bytes without rules
// or time, SetUnstable makes bytes read back randomly (in their 0 bits) until
// they are programmed or erased, deterministically from Options.Seed.
//
// # Image files
//
// OpenFile keeps a chip in an image file PATH (raw contents, exactly the
// chip size: the format QEMU's -drive if=mtd and dd use) and its per-block
// wear and bad-block marks in a sidecar PATH.wear:
//
//	8 bytes  magic "cmcwear1"
//	8 bytes  number of erase blocks (of the erase model's unit), little-endian uint64
//	8 bytes per erase block, little-endian: wear count in bits 0..62, bad in bit 63
//
// Both are written through (pwrite) by every WriteAt, Erase, MarkBad, Poke
// and file-backed Restore before it returns, so killing the process loses
// nothing that was acknowledged; Sync and Close also fsync. An image
// without a wear file (one made by dd, say) opens with zero wear. The NAND
// program state is not stored: on open, a block's programmable pages start
// after its last page that is not all 0xFF. Unstable ranges are not stored
// (they end with the process, as marginal cells settle at power-up).
//
// # Concurrency
//
// A Flash is safe for concurrent use; its operations are serialized, as on
// a chip's bus. A Clock is safe for concurrent use. Snapshots are immutable.
//
// The simulator knows nothing of what is stored on it.
package sim
