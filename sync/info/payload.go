package info

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Payload framing. Every payload (the bytes a record carries) is a table:
//
//	0  uint8  type (the record's Type)
//	1  uint8  payload format version (1)
//	2  uint16 fixed section length F
//	4  uint16 entry size E (0: no ring)
//	6  uint16 reserved, 0
//	8  uint32 ring slots (maximum entries)
//	12 uint32 entries present N (N <= slots)
//	16 uint32 next: slot the next append writes (N when N < slots)
//	20 uint32 updated: seconds since the Unix epoch of the last change
//	24 F bytes of fixed section, then N*E bytes of ring entries
//
// All integers are little-endian. The ring grows until it holds slots
// entries; then each append overwrites the oldest entry, at next. Strings
// are ASCII, NUL-padded. Temperatures are °C, powers W.
//
// Fixed sections and entries per type:
//
//	power     fixed (400 B): policy 16 B = redundancy (0 N, 1 N+1, 2 N+N) u8,
//	          cap enabled u8, PSU slots u8, 0 u8, cap W u16, rated total W u16,
//	          energy kWh u32, 0 [4]; then 6 PSU records of 64 B = slot u8,
//	          present u8, state u8 (0 absent, 1 ok, 2 warning, 3 failed,
//	          4 standby), 0 u8, rated W u16, input W u16, output W u16, input
//	          voltage in 0.1 V u16, temperature u8, PSU fan % u8, 0 u16,
//	          model [20], serial [16], firmware [8], 0 [4].
//	          entry (16 B): time u32, input W u16, output W u16, cap W u16,
//	          PSU-ok mask u8, PSUs u8, peak W u16, minimum W u16.
//	fan       fixed (208 B): mode 16 B = mode (0 auto, 1 manual) u8, manual
//	          duty % u8, minimum duty % u8, target temperature u8, fans u8,
//	          0 [11]; then 12 fan records of 16 B = fan u8, present u8, state u8
//	          (0 absent, 1 ok, 2 failed), PWM % u8, RPM u16, target RPM u16,
//	          maximum RPM u16, zone u8, 0 u8, running hours u32.
//	          entry (16 B): time u32, fan u8, PWM % u8, RPM u16, inlet u8,
//	          exhaust u8, zone u8, state u8, target RPM u16, 0 u16.
//	node      fixed (2048 B): 16 node records of 128 B = slot u8, present u8,
//	          power state (0 off, 1 on, 2 standby, 3 cycling) u8, health (0
//	          unknown, 1 ok, 2 warning, 3 critical) u8, power budget W u16,
//	          0 u16, boot count u32, boot time u32, BIOS version [16], BMC
//	          version [16], host name [32], IPv4 [4], MAC [6], 0 [2], last
//	          change time u32, 0 [32].
//	          entry (16 B): time u32, node u8, kind (0 sample, 1 state change)
//	          u8, power state u8, health u8, power W u16, CPU temperature u8,
//	          inlet u8, BIOS POST code u8, previous power state u8, 0 u16.
//	event-log fixed (16 B): SEL version 0x51 u8, overflow flag u8, next record
//	          ID u16, last add time u32, last erase time u32, entries ever
//	          added u32.
//	          entry (16 B): an IPMI SEL record, record type 0x02: record ID
//	          u16, type u8, timestamp u32, generator ID u16, EvM revision 0x04
//	          u8, sensor type u8, sensor number u8, event dir/type u8, event
//	          data [3].
//	fault-log fixed (16 B): next entry ID u32, active faults u32, last add
//	          time u32, 0 u32.
//	          entry (64 B): time u32, entry ID u32, node u8, severity (1 info,
//	          2 warning, 3 critical) u8, component u8, state (1 asserted,
//	          2 cleared) u8, fault code u32, 0 u32, message [44].
//	asset     fixed (5888 B): 23 IPMI FRU images of 256 B (chassis, nodes
//	          1-16, PSUs 1-6), zero-padded; no ring (entry size 0, 0 slots).
const (
	PayloadHeaderSize = 24
	payloadVersion    = 1
)

// Per-type sizes of the fixed sections and ring entries.
const (
	powerPolicySize = 16
	psuRecordSize   = 64
	numPSUs         = 6
	fanModeSize     = 16
	fanRecordSize   = 16
	numFans         = 12
	nodeRecordSize  = 128
	numNodes        = 16
	selInfoSize     = 16
	faultInfoSize   = 16
	fruSize         = 256
	numFRUs         = 1 + numNodes + numPSUs

	// SELEntrySize is the size of an IPMI SEL record.
	SELEntrySize = 16
	// FaultEntrySize is the size of a fault log entry.
	FaultEntrySize = 64
	sampleSize     = 16
)

// layoutOf returns the fixed section length and the ring entry size of t.
func layoutOf(t Type) (fixed, entry int) {
	switch t {
	case Power:
		return powerPolicySize + numPSUs*psuRecordSize, sampleSize
	case Fan:
		return fanModeSize + numFans*fanRecordSize, sampleSize
	case Node:
		return numNodes * nodeRecordSize, sampleSize
	case EventLog:
		return selInfoSize, SELEntrySize
	case FaultLog:
		return faultInfoSize, FaultEntrySize
	case Asset:
		return numFRUs * fruSize, 0
	}
	return 0, 0
}

// minPayload is the smallest capacity a type's extent must offer: its fixed
// section and room for 64 ring entries.
func minPayload(t Type) int {
	fixed, entry := layoutOf(t)
	return PayloadHeaderSize + fixed + 64*entry
}

// table is a decoded payload; fixed and ring alias the payload bytes.
type table struct {
	typ       Type
	slots     uint32
	count     uint32
	next      uint32
	updated   uint32
	entrySize int
	fixed     []byte
	ring      []byte // count*entrySize bytes
}

var errPayload = errors.New("malformed payload")

// decodeTable parses a payload of type t. The returned table aliases p.
func decodeTable(t Type, p []byte) (*table, error) {
	if !t.Valid() {
		return nil, fmt.Errorf("%w: unknown information type %d", errPayload, uint8(t))
	}
	if len(p) < PayloadHeaderSize {
		return nil, fmt.Errorf("%w: %d bytes, shorter than its %d-byte header", errPayload, len(p), PayloadHeaderSize)
	}
	if Type(p[0]) != t {
		return nil, fmt.Errorf("%w: payload says type %v, record is %v", errPayload, Type(p[0]), t)
	}
	if p[1] != payloadVersion {
		return nil, fmt.Errorf("%w: payload format version %d, want %d", errPayload, p[1], payloadVersion)
	}
	fixed, entry := layoutOf(t)
	tb := &table{
		typ:       t,
		entrySize: int(binary.LittleEndian.Uint16(p[4:])),
		slots:     binary.LittleEndian.Uint32(p[8:]),
		count:     binary.LittleEndian.Uint32(p[12:]),
		next:      binary.LittleEndian.Uint32(p[16:]),
		updated:   binary.LittleEndian.Uint32(p[20:]),
	}
	if f := int(binary.LittleEndian.Uint16(p[2:])); f != fixed || tb.entrySize != entry {
		return nil, fmt.Errorf("%w: %v payload has fixed section %d and entry size %d, want %d and %d", errPayload, t, f, tb.entrySize, fixed, entry)
	}
	if r := binary.LittleEndian.Uint16(p[6:]); r != 0 {
		return nil, fmt.Errorf("%w: reserved field %#x, want 0", errPayload, r)
	}
	if entry == 0 && (tb.slots != 0 || tb.count != 0 || tb.next != 0) {
		return nil, fmt.Errorf("%w: %v payload has no ring but says %d slots, %d entries", errPayload, t, tb.slots, tb.count)
	}
	if tb.count > tb.slots {
		return nil, fmt.Errorf("%w: %d entries in %d slots", errPayload, tb.count, tb.slots)
	}
	if !validNext(tb.slots, tb.count, tb.next) {
		return nil, fmt.Errorf("%w: next slot %d with %d of %d slots used", errPayload, tb.next, tb.count, tb.slots)
	}
	want := int64(PayloadHeaderSize) + int64(fixed) + int64(tb.count)*int64(entry)
	if int64(len(p)) != want {
		return nil, fmt.Errorf("%w: %d bytes, header implies %d", errPayload, len(p), want)
	}
	tb.fixed = p[PayloadHeaderSize : PayloadHeaderSize+fixed]
	tb.ring = p[PayloadHeaderSize+fixed:]
	return tb, nil
}

// validNext reports whether next is consistent: the append position of a
// growing ring is its end; a full ring's is any slot.
func validNext(slots, count, next uint32) bool {
	if count < slots {
		return next == count
	}
	if slots == 0 {
		return next == 0
	}
	return next < slots
}

// newTable returns an empty table of type t with the given ring slots and the
// fixed section filled by the type's default.
func newTable(t Type, slots uint32) *table {
	fixed, entry := layoutOf(t)
	if entry == 0 {
		slots = 0
	}
	tb := &table{typ: t, slots: slots, entrySize: entry, fixed: make([]byte, fixed)}
	defaultFixed(t, tb.fixed)
	return tb
}

// encode returns the payload bytes of tb.
func (tb *table) encode() []byte {
	p := make([]byte, PayloadHeaderSize, PayloadHeaderSize+len(tb.fixed)+len(tb.ring))
	p[0] = byte(tb.typ)
	p[1] = payloadVersion
	binary.LittleEndian.PutUint16(p[2:], uint16(len(tb.fixed)))
	binary.LittleEndian.PutUint16(p[4:], uint16(tb.entrySize))
	binary.LittleEndian.PutUint32(p[8:], tb.slots)
	binary.LittleEndian.PutUint32(p[12:], tb.count)
	binary.LittleEndian.PutUint32(p[16:], tb.next)
	binary.LittleEndian.PutUint32(p[20:], tb.updated)
	p = append(p, tb.fixed...)
	return append(p, tb.ring...)
}

// add appends one ring entry (len(e) == entrySize), overwriting the oldest
// when the ring is full. It does nothing when the ring has no slots.
func (tb *table) add(e []byte) {
	if tb.slots == 0 || tb.entrySize == 0 {
		return
	}
	if tb.count < tb.slots {
		tb.ring = append(tb.ring, e...)
		tb.count++
		tb.next = tb.count
		if tb.count == tb.slots {
			tb.next = 0
		}
		return
	}
	off := int(tb.next) * tb.entrySize
	copy(tb.ring[off:off+tb.entrySize], e)
	tb.next = (tb.next + 1) % tb.slots
}

// newest returns the most recently added entry, or nil.
func (tb *table) newest() []byte {
	if tb.count == 0 {
		return nil
	}
	i := int(tb.count) - 1
	if tb.count == tb.slots {
		i = (int(tb.next) + int(tb.slots) - 1) % int(tb.slots)
	}
	return tb.ring[i*tb.entrySize : (i+1)*tb.entrySize]
}

// Default returns the preset default payload of t: what a "restore the
// preset defaults" after an image upgrade writes. Logs are empty; power
// and fan hold the factory policy and unpopulated slots; nodes are off and
// unidentified; asset holds valid but blank FRU images. The result is a new
// slice each call; nil for an invalid type. Its ring has no slots: the first
// Generator or service write sizes the ring for the region's extent.
func Default(t Type) []byte {
	if !t.Valid() {
		return nil
	}
	return newTable(t, 0).encode()
}

// defaultFixed fills a fixed section with the factory defaults of t.
func defaultFixed(t Type, b []byte) {
	le := binary.LittleEndian
	switch t {
	case Power:
		// policy: redundancy N+1, cap disabled, cap 0 W, 6 slots
		b[0], b[1], b[2] = 1, 0, numPSUs
		for i := 0; i < numPSUs; i++ {
			r := b[powerPolicySize+i*psuRecordSize:][:psuRecordSize]
			r[0] = byte(i + 1) // slot, present 0, state 0 (absent)
		}
	case Fan:
		// mode auto, manual duty 0, minimum duty 20%, target 27 °C, 12 fans
		b[0], b[1], b[2], b[3], b[4] = 0, 0, 20, 27, numFans
		for i := 0; i < numFans; i++ {
			r := b[fanModeSize+i*fanRecordSize:][:fanRecordSize]
			r[0] = byte(i + 1)
			r[10] = byte(i/4 + 1) // cooling zone
		}
	case Node:
		for i := 0; i < numNodes; i++ {
			b[i*nodeRecordSize] = byte(i + 1)
		}
	case EventLog:
		b[0] = 0x51            // SEL version (IPMI 2.0); b[1] overflow flag 0
		le.PutUint16(b[2:], 1) // next record ID; last add/erase time and count 0
	case FaultLog:
		le.PutUint32(b[0:], 1) // next entry ID
	case Asset:
		for i := 0; i < numFRUs; i++ {
			encodeFRU(b[i*fruSize:(i+1)*fruSize], fruInfo{})
		}
	}
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
// payload.go's layout) and checks it is self-consistent. Any payload written
// by Default, FormatRegion or the Generator describes; other bytes return an
// error saying what is wrong.
func DescribePayload(t Type, p []byte) (PayloadInfo, error) {
	if !t.Valid() {
		return PayloadInfo{}, fmt.Errorf("unknown information type %d (want 1..%d)", uint8(t), NumTypes)
	}
	tb, err := decodeTable(t, p)
	if err != nil {
		return PayloadInfo{}, fmt.Errorf("%v payload: %w", t, err)
	}
	return PayloadInfo{Type: t, FixedSize: len(tb.fixed), EntrySize: tb.entrySize, Slots: int(tb.slots),
		Entries: int(tb.count), Updated: time.Unix(int64(tb.updated), 0).UTC()}, nil
}
