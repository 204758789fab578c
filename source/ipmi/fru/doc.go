// Package fru reads, checks and writes IPMI FRU images: the Platform
// Management FRU Information Storage Definition v1.0 format that a FRU
// EEPROM holds, `ipmitool fru read` saves and the CMC's asset information
// keeps one of per chassis, node and PSU (docs/FORMAT.md, "3.1 Payloads",
// asset: 23 images, each zero-padded to a 256-byte slot; see [FitSlot]).
//
// # Layout
//
// An image starts with the 8-byte common header: format version 0x01, the
// offsets of the internal use, chassis info, board info, product info and
// multirecord areas in multiples of 8 bytes (0: absent), a pad byte and a
// checksum (every checksum here makes its bytes sum to zero modulo 256).
//
//   - Internal use: format version 0x01, then opaque data up to the next
//     area.
//   - Chassis info: format version 0x01, length in multiples of 8, chassis
//     type, part number and serial number fields, custom fields.
//   - Board info: format version, length, language code, manufacturing
//     date (3 bytes, minutes since 1996-01-01 00:00 UTC, LS byte first; 0
//     unspecified), manufacturer, product name, serial number, part number
//     and FRU file ID fields, custom fields.
//   - Product info: format version, length, language code, manufacturer,
//     product name, part/model number, version, serial number, asset tag
//     and FRU file ID fields, custom fields.
//   - Multirecord: records of a 5-byte header (type, end-of-list flag and
//     format version 2, length, data checksum, header checksum) and data,
//     up to the record flagged end of list. Decode checks and keeps them;
//     it does not interpret their data.
//
// Each info area's fields are type/length coded ([Field], [Encoding]):
// bits 7:6 the encoding (binary, BCD plus, 6-bit ASCII, 8-bit text), bits
// 5:0 the length; the byte 0xC1 ends the fields, then zero padding and the
// area checksum fill the area. 8-bit text is ASCII + Latin-1 when the
// area's language is English (0 or 25) and 2-byte Unicode otherwise.
//
// [Decode] never panics and never reads outside its input; errors wrap
// [ErrFormat] or [ErrChecksum] and name the area, field and offset.
// [Encode] lays an [Image] out in header order; for the images it writes,
// Decode and Encode are inverses.
package fru
