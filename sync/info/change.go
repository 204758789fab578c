package info

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Change tables (region version 2): for every erase block of a type's
// extent, an 8-byte entry holding the check (BlockCheck) of the payload
// bytes that lie in that block — the record header's 32 bytes are left
// out of the extent's first block, and nothing past the payload's end is
// counted (a block that holds none of the payload has the check of no
// bytes, 0). Entry j of type t is at region offset
// ExtentInfo.Table + ChangeEntrySize·j:
//
//	0 uint32 CRC-32 (IEEE) of the block's payload bytes
//	4 uint32 CRC-32C (Castagnoli) of the same bytes
//
// i.e. the uint64 little-endian BlockCheck value. An erased entry
// (ChangeUnknown) says nothing. Entries past the blocks of the current
// record are unspecified.
//
// Every writer of the region (Write, Rewrite, FormatRegion) writes the
// record first and then the entries that changed, so a reader that wants
// to know which blocks changed since it last saw the payload reads the
// record header and the table instead of the payload. The table is a
// hint, never the truth: after a writer stopped between the record and
// its table (a power cut) or a writer that does not keep tables, the
// entries disagree with the record. A reader detects that by combining
// the entries' CRC-32C values into the payload's CRC-32C and comparing it
// with the record header's, and then reads the record whole.
const (
	// ChangeEntrySize is the size of one change table entry.
	ChangeEntrySize = 8
	// ChangeUnknown is an erased entry: the block's check is not known.
	ChangeUnknown = ^uint64(0)
)

var ieee = crc32.MakeTable(crc32.IEEE)

// BlockCheck returns the check a change table entry holds for b: CRC-32C
// in the high 32 bits, CRC-32 (IEEE) in the low 32 bits.
func BlockCheck(b []byte) uint64 {
	return uint64(Checksum(b))<<32 | uint64(crc32.Checksum(b, ieee))
}

// tableBlocks is the number of erase blocks the change table of an extent
// of capacity bytes takes.
func tableBlocks(capacity, eraseSize int64) int64 {
	n := capacity / eraseSize * ChangeEntrySize
	return max(1, (n+eraseSize-1)/eraseSize)
}

// ChangeTable returns where t's change table lives: its chip offset and
// its number of entries (one per erase block of the region's layout,
// ChangeUnit bytes, of t's extent). ok is false for a version 1 region,
// which has no tables, and for an invalid type.
func (r *Region) ChangeTable(t Type) (off int64, entries int, ok bool) {
	if !t.Valid() || r.header.Version < RegionVersion {
		return 0, 0, false
	}
	e := r.ext[t]
	return r.off + e.Table, int(e.Capacity / r.header.EraseSize), true
}

// ChangeUnit returns the bytes of an extent one change table entry
// covers: the erase size the region was laid out for.
func (r *Region) ChangeUnit() int64 { return r.header.EraseSize }

// ChangeEntry returns entry i of a table read into b (ChangeEntrySize
// bytes per entry).
func ChangeEntry(b []byte, i int) uint64 {
	return binary.LittleEndian.Uint64(b[i*ChangeEntrySize:])
}

// changeEntries returns the table entries of a record holding payload in
// an extent of unit-byte blocks: one per block the record (header and
// payload) reaches.
func changeEntries(payload []byte, unit int64) []byte {
	size := int64(RecordHeaderSize + len(payload))
	n := (size + unit - 1) / unit
	b := make([]byte, n*ChangeEntrySize)
	for j := int64(0); j < n; j++ {
		lo := max(j*unit-RecordHeaderSize, 0)
		hi := min((j+1)*unit-RecordHeaderSize, int64(len(payload)))
		binary.LittleEndian.PutUint64(b[j*ChangeEntrySize:], BlockCheck(payload[lo:hi]))
	}
	return b
}

// writeTable makes t's change table describe payload (a version 2 region;
// nothing otherwise), programming only the table blocks that differ.
func (r *Region) writeTable(t Type, payload []byte) (WriteStats, error) {
	off, _, ok := r.ChangeTable(t)
	if !ok {
		return WriteStats{}, nil
	}
	st, err := r.program(off, changeEntries(payload, r.header.EraseSize), nil)
	if err != nil {
		return st, fmt.Errorf("change table: %w", err)
	}
	return st, nil
}
