// Package info defines the information a CMC (chassis management
// controller) keeps on its primary flash and that the sync engine copies to
// the backup: the six preset information types, their on-flash record and
// region format, the firmware image header the engine probes, and the
// payload table codec ([Table]) a writer of payloads uses. The simulated
// CMC that writes the region like a CMC's services do is package cmcsim.
//
// # Information types
//
// [Power], [Fan], [Node], [EventLog], [FaultLog] and [Asset], with stable
// names ("power", "fan", "node", "event-log", "fault-log", "asset"; see
// [ParseType], [ParseList]), a detailed [Explanation] for the selection page,
// and [Default] contents (what "restore the preset defaults" writes).
//
// # Primary information region
//
// The region is a range of the primary chip (offset and size multiples of
// the erase size). All integers are little-endian; every checksum is
// CRC-32C (Castagnoli, [Checksum]).
//
// Block 0 of the region holds the region header ([RegionHeaderSize] = 172
// bytes; the rest of the block is 0xFF): the extent of each type and, in
// version 2 ([RegionVersion]), where its change table lives. Its bytes
// are in docs/FORMAT.md, "3. Information region".
//
// Version 2 puts one change table per type after the header block (each
// on erase blocks of its own), then the extents, erase-block aligned, in
// type order and never overlapping, so a service rewriting one type never
// touches another type's blocks. [PlanRegion] gives each type the blocks
// its fixed contents plus 64 ring entries need and shares the remaining
// blocks by weight: event log 36, fault log 24, power 12, fan 12, node 7,
// asset 2 (the remainder to the event log). On an 8 MiB region with 4 KiB
// blocks that is: header 4 KiB at 0, tables 0x1000–0x8fff, power
// 1,052 KiB at 0x9000, fan 1,052 KiB at 0x110000, node 612 KiB at
// 0x217000, event log 3,156 KiB at 0x2b0000, fault log 2,104 KiB at
// 0x5c5000, asset 180 KiB at 0x7d3000 (checked by the tests).
//
// A change table (change.go) holds, per erase block of the extent, the
// CRC-32 and CRC-32C of the payload bytes in it. Every writer of this
// package keeps it (the record first, then the table), so a reader can
// find the changed blocks without reading the payload; readers must check
// it against the record's payload CRC. Version 1 regions (no tables) open,
// read and take writes as before and are never upgraded.
//
// Each extent starts with one record: a 32-byte header (magic, type,
// sequence number, payload length and CRCs; docs/FORMAT.md, "3. Information
// region"), then the payload (bytes past the payload up to the extent's end
// are unspecified).
//
// [FormatRegion] erases the region, writes every type's default record
// (sequence 1) and writes the region header last. [Region.Write] is what a
// CMC service does: read-compare per erase block, skip equal blocks, program
// without erase where only bits are cleared (NOR appends into erased
// space), erase and program the rest. [Region.Read] verifies every header
// field and both CRCs and returns an error wrapping [ErrCorrupt] naming the
// problem.
//
// # Payloads
//
// Every payload written by this package's defaults and by cmcsim is a
// table ([Table], [DecodeTable], [NewTable]): a 24-byte payload header
// (type, format version 1, fixed-section length, entry size, ring slots,
// entries present, next slot, last-update time in Unix seconds), a fixed
// section and a ring of fixed-size entries,
// appended until the ring is full and then overwriting the oldest. The
// fixed sections and entries (IPMI SEL records, 64-byte fault entries,
// 16-byte telemetry samples, IPMI FRU images) are described in each type's
// [Explanation] and byte by byte in docs/FORMAT.md, "3.1 Payloads".
// Region.Write accepts any payload bytes;
// only writers of payloads need the table format ([PayloadSizes] and
// [RingSlots] give a type's sizes and the ring a capacity holds;
// [Region.Rewrite] writes back a record just read without reading it
// again).
//
// # Firmware image
//
// At chip offset 0: a 64-byte [ImageHeader] (docs/FORMAT.md, "2. Firmware
// image header") followed by the body. [ReadImageHeader] is the engine's cheap health
// probe; [VerifyImage] checks the whole body.
//
// This package imports only hal and the standard library.
package info
