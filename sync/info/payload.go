package info

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// Payload framing: every payload (the bytes a record carries) is a table —
// a 24-byte header, a fixed section and a ring of fixed-size entries. The
// bytes of the header, of every type's fixed section and of its entries are
// in docs/FORMAT.md, "3.1 Payloads"; the constants below are their sizes.
const (
	PayloadHeaderSize = 24
	payloadVersion    = 1
)

// Per-type sizes of the fixed sections and ring entries (see the layout
// above); a writer of payloads indexes the fixed sections with them.
const (
	PowerPolicySize = 16                     // power: policy at the start of the fixed section
	PSURecordSize   = 64                     // power: one PSU record, after the policy
	NumPSUs         = 6                      // power: PSU records
	FanModeSize     = 16                     // fan: mode at the start of the fixed section
	FanRecordSize   = 16                     // fan: one fan record, after the mode
	NumFans         = 12                     // fan: fan records
	NodeRecordSize  = 128                    // node: one node record
	NumNodes        = 16                     // node: node records
	SELInfoSize     = 16                     // event-log: the fixed section (SEL info)
	FaultInfoSize   = 16                     // fault-log: the fixed section
	FRUSize         = 256                    // asset: one FRU image slot
	NumFRUs         = 1 + NumNodes + NumPSUs // asset: chassis, nodes, PSUs
	SampleSize      = 16                     // power, fan and node: one ring entry

	// SELEntrySize is the size of an IPMI SEL record.
	SELEntrySize = 16
	// FaultEntrySize is the size of a fault log entry.
	FaultEntrySize = 64
)

// PayloadSizes returns the fixed section length and the ring entry size (0:
// no ring) of t's payload; 0, 0 for an invalid type.
func PayloadSizes(t Type) (fixed, entry int) {
	switch t {
	case Power:
		return PowerPolicySize + NumPSUs*PSURecordSize, SampleSize
	case Fan:
		return FanModeSize + NumFans*FanRecordSize, SampleSize
	case Node:
		return NumNodes * NodeRecordSize, SampleSize
	case EventLog:
		return SELInfoSize, SELEntrySize
	case FaultLog:
		return FaultInfoSize, FaultEntrySize
	case Asset:
		return NumFRUs * FRUSize, 0
	}
	return 0, 0
}

// minPayload is the smallest capacity a type's extent must offer: its fixed
// section and room for 64 ring entries.
func minPayload(t Type) int {
	fixed, entry := PayloadSizes(t)
	return PayloadHeaderSize + fixed + 64*entry
}

// RingSlots returns the ring slots a payload of type t has room for in
// capacity bytes (Region.Capacity): what a writer sizes the ring to. It is
// 0 for a type without a ring or a capacity below the fixed section.
func RingSlots(t Type, capacity int) uint32 {
	fixed, entry := PayloadSizes(t)
	if entry == 0 {
		return 0
	}
	n := (capacity - PayloadHeaderSize - fixed) / entry
	if n < 0 {
		return 0
	}
	return uint32(min(int64(n), math.MaxUint32))
}

// Default returns the preset default payload of t: what a "restore the
// preset defaults" after an image upgrade writes. Logs are empty; power
// and fan hold the factory policy and unpopulated slots; nodes are off and
// unidentified; asset holds valid but blank FRU images. The result is a new
// slice each call; nil for an invalid type. Its ring has no slots: the first
// service (or cmcsim generator) write sizes the ring for the region's extent.
func Default(t Type) []byte {
	if !t.Valid() {
		return nil
	}
	return NewTable(t, 0).Encode()
}

// defaultFixed fills a fixed section with the factory defaults of t.
func defaultFixed(t Type, b []byte) {
	le := binary.LittleEndian
	switch t {
	case Power:
		// policy: redundancy N+1, cap disabled, cap 0 W, 6 slots
		b[0], b[1], b[2] = 1, 0, NumPSUs
		for i := 0; i < NumPSUs; i++ {
			r := b[PowerPolicySize+i*PSURecordSize:][:PSURecordSize]
			r[0] = byte(i + 1) // slot, present 0, state 0 (absent)
		}
	case Fan:
		// mode auto, manual duty 0, minimum duty 20%, target 27 °C, 12 fans
		b[0], b[1], b[2], b[3], b[4] = 0, 0, 20, 27, NumFans
		for i := 0; i < NumFans; i++ {
			r := b[FanModeSize+i*FanRecordSize:][:FanRecordSize]
			r[0] = byte(i + 1)
			r[10] = byte(i/4 + 1) // cooling zone
		}
	case Node:
		for i := 0; i < NumNodes; i++ {
			b[i*NodeRecordSize] = byte(i + 1)
		}
	case EventLog:
		b[0] = 0x51            // SEL version (IPMI 2.0); b[1] overflow flag 0
		le.PutUint16(b[2:], 1) // next record ID; last add/erase time and count 0
	case FaultLog:
		le.PutUint32(b[0:], 1) // next entry ID
	case Asset:
		for i := 0; i < NumFRUs; i++ {
			copy(b[i*FRUSize:], blankFRU[:])
		}
	}
}

// blankFRU is the IPMI FRU image Default puts in every asset slot: common
// header (format 1, board area at 8, product area at 24, checksum), a board
// area (format 1, 2×8 bytes, language 0, manufacturing date 0, five empty
// fields, end marker 0xC1, padding, checksum) and a product area (format 1,
// 2×8 bytes, language 0, seven empty fields, end marker, padding,
// checksum); the rest of the 256-byte slot is zero. It is what cmcsim's FRU
// encoder writes for a FRU with no fields (checked by its tests).
var blankFRU = [...]byte{
	0x01, 0x00, 0x00, 0x01, 0x03, 0x00, 0x00, 0xfb, // common header
	0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0, 0xc1, 0x00, 0x00, 0x00, 0x7c, // board area
	0x01, 0x02, 0x00, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0, 0xc1, 0x00, 0x00, 0x00, 0x00, 0xfc, // product area
}

// PayloadInfo summarises a payload in this package's table format, for
// tools and pages that show what a record holds.
type PayloadInfo struct {
	Type      Type
	FixedSize int       // bytes of the fixed section
	EntrySize int       // bytes per ring entry; 0 when the type has no ring
	Slots     int       // ring capacity in entries
	Entries   int       // entries present
	Updated   time.Time // last change, whole seconds, UTC; the Unix epoch if never
}

// DescribePayload decodes the table framing of a payload of type t (see
// payload.go's layout) and checks it is self-consistent, as DecodeTable.
// Any payload written by Default, FormatRegion or a Table's Encode
// describes; other bytes return an error saying what is wrong.
func DescribePayload(t Type, p []byte) (PayloadInfo, error) {
	if !t.Valid() {
		return PayloadInfo{}, fmt.Errorf("unknown information type %d (want 1..%d)", uint8(t), NumTypes)
	}
	tb, err := DecodeTable(t, p)
	if err != nil {
		return PayloadInfo{}, fmt.Errorf("%v payload: %w", t, err)
	}
	return PayloadInfo{Type: t, FixedSize: len(tb.Fixed), EntrySize: tb.EntrySize, Slots: int(tb.Slots),
		Entries: int(tb.Count), Updated: time.Unix(int64(tb.Updated), 0).UTC()}, nil
}
