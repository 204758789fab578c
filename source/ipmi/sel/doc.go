// Package sel reads and writes IPMI System Event Log (SEL) records: the
// 16-byte records of the IPMI v2.0 specification, section 32 ("SEL Record
// Formats"), which a CMC's event-log ring holds one per entry
// (docs/FORMAT.md, "3.1 Payloads", event-log).
//
// # Records
//
// A [Record] is the 16 bytes exactly as the specification lays them out and
// as Get SEL Entry returns them, multi-byte fields least significant byte
// first:
//
//	0  u16 record ID
//	2  u8  record type: 0x02 system event, 0xC0–0xDF OEM timestamped,
//	       0xE0–0xFF OEM non-timestamped; every other value is reserved
//	system event (0x02):
//	3  u32 timestamp (seconds since the Unix epoch)
//	7  u16 generator ID
//	9  u8  EvM revision (0x04; 0x03 for IPMI 1.0 records)
//	10 u8  sensor type
//	11 u8  sensor number
//	12 u8  event dir (bit 7: 1 deassertion) | event/reading type (bits 6:0)
//	13 [3] event data 1–3
//	OEM timestamped (0xC0–0xDF):
//	3  u32 timestamp
//	7  [3] manufacturer ID (IANA enterprise number, 20 bits, LS byte first)
//	10 [6] OEM defined
//	OEM non-timestamped (0xE0–0xFF):
//	3  [13] OEM defined
//
// [Record.Validate] rejects reserved record types, EvM revisions other than
// 0x03 and 0x04, reserved event/reading types (0x0D–0x6E) and manufacturer
// IDs wider than 20 bits; every error wraps [ErrFormat] and names the byte.
//
// # Files
//
// Two file formats carry SEL records, both written by ipmitool:
//
//   - Raw ([ParseRaw], [AppendRaw]): a sequence of 16-byte records with no
//     header, as `ipmitool sel writeraw FILE` saves the SEL and `ipmitool
//     sel readraw FILE` reads it back (ipmitool's lib/ipmi_sel.c writes the
//     in-memory record of each entry, 16 bytes, and reports "incomplete
//     record found in file" for a trailing partial record). ipmitool keeps
//     the manufacturer ID of an OEM timestamped record most significant
//     byte first, the reverse of the specification; [LayoutIpmitool] reads
//     and writes that order, [LayoutIPMI] the specification's (what a BMC
//     stores and what the event-log ring holds). The two layouts differ in
//     nothing else. Multi-byte fields are little-endian, as ipmitool writes
//     them on the little-endian hosts (x86, ARM) CMCs and their consoles
//     run.
//   - Text ([ParseText], [AppendText]): one system event a line, seven
//     byte values (EvM revision, sensor type, sensor number, event
//     dir/type, event data 1–3; decimal, 0x-hex or 0-octal as C's strtoul
//     reads them) and an optional comment after '#'. It is the file
//     `ipmitool sel add FILE` reads and `ipmitool sel save FILE` writes. A
//     line carries no record ID, timestamp or generator: like ipmitool,
//     [ParseText] gives each record ID 0, timestamp 0 and generator ID 0x0041
//     (software ID 0x20, system management software), and a SEL device
//     assigns the ID and time when it adds the record ([NextID],
//     [Record.SetID], [Record.SetTimestamp]).
//
// [Parse] tells the two apart: a text file holds only printable ASCII and
// white space, while every valid raw record has a control or non-ASCII byte
// at offset 2 (its record type), so no valid raw file reads as text.
//
// Parsers never panic and never read past their input; an error names the
// record (or line), the byte offset and the field.
package sel
