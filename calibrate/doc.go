// Package calibrate measures a flash device's timings on a scratch range
// and writes them as a part profile (sim.Profile) the simulator and the
// benchmarks load: the datasheet figures of sim's table, checked against —
// or replaced by — a real chip's.
//
// # What it does to the device
//
// Run erases and programs Plan.Scratch, whole erase blocks that the user
// names, and nothing else: every read, program and erase is checked to lie
// inside it before it is issued, and the scratch is left erased. It
// refuses, before any operation, a plan without a scratch range
// (ErrNoScratch), a range that is not aligned to the erase size
// (ErrScratchUnaligned), one that is not inside the device
// (ErrScratchOutOfDevice), one with too few erase blocks for the
// repetitions (ErrScratchTooSmall: Plan.MinScratch, so that no block takes
// more than 8 timed erases), fewer than MinReps repetitions, and a range
// holding a bad block.
//
// # What it measures
//
// Each sample is the clock's time around one hal.Flash call — on Linux the
// system call (pwrite, pread, the MEMERASE ioctl), timed with the wall
// clock's monotonic reading; on a simulated chip its virtual clock. After
// Plan.Warmup repetitions that are not counted, Plan.Reps times, on the
// scratch's erase blocks in turn:
//
//   - program: the block, page by page (Geometry.PageSize bytes of seeded
//     data into erased pages), each page timed;
//   - read: 16 bytes, one, two and four pages, the block, and (if larger)
//     up to 64 KiB of the scratch, each timed;
//   - erase: the block (now fully programmed), timed.
//
// Then, if the device's erase size is below 64 KiB and the scratch holds
// an aligned 64 KiB window, 1+Plan.BlockReps times: a 64 KiB erase of the
// programmed window, and an erase of its first two (programmed) erase
// blocks (the first of each not counted). Every kind of operation is
// summarised as count, median, p10 and p90 (interpolated between ranks),
// minimum, maximum and mean (Stats).
//
// # How each profile figure is derived (Result.Profile)
//
//   - typical is the median; max is the largest sample observed — a lower
//     bound of the chip's true worst case, which a datasheet's maximum
//     also covers across temperature, voltage and wear;
//   - bus_bytes_per_sec and command_overhead_seconds (both corners): a
//     least-squares fit of the read medians to overhead + bytes/rate, each
//     read's equation weighed by its own median (relative error); on NAND
//     with a third unknown, pages × page_read_seconds (tR). When the reads do
//     not grow with their size the rate is the largest read's bytes over
//     its time (a note says so);
//   - page_program_seconds: the program median (max) less the command overhead
//     and the page's transfer at the fitted rate — the simulator charges
//     those apart;
//   - sector_erase_seconds: the erase median (max) of one erase block of the
//     device's erase size (erase_size) less the command overhead;
//   - block_erase_seconds and block_erase_size: only when a 64 KiB erase was
//     one command. An erase call costs a fixed part (system call, driver,
//     an emulator's overhead) plus a part per erase command; the one- and
//     two-block erase medians give both (per command = two − one, fixed =
//     one − per command), and the 64 KiB erase counts as one command when
//     its median less the fixed part is below 0.8 of 16 commands (of 4
//     KiB). Its typical and max are then its median and maximum less the
//     command overhead.
//     Linux's spi-nor core with 4 KiB sectors erases 64 KiB as 16 sector
//     commands (drivers/mtd/spi-nor/core.c, spi_nor_erase), so there the
//     block erase is not measurable and the profile has none; on a kernel
//     without CONFIG_MTD_SPI_NOR_USE_4K_SECTORS the device's erase size
//     is 64 KiB and sector_erase_seconds is that block's erase, the 4 KiB
//     sector erase being the one not measurable;
//   - page_read_seconds (NAND): the fit's tR, its max from the one-page read's
//     maximum;
//   - size, erase_size, page_size, write_size, kind: the device's
//     geometry; endurance: not measured, 100,000 (noted); bus lines and
//     clock: unknown.
//
// A derived time that comes out negative — a program no slower than its
// own transfer, as on an emulator that writes a file — is set to 0 with a
// note. The profile is then well-formed but physically implausible
// (sim.Part.CheckPlausible), which is the right verdict for an emulator:
// Meta.Emulated labels such a profile.
package calibrate
