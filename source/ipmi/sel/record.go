package sel

import (
	"encoding/binary"
	"fmt"
	"time"
)

// RecordSize is the size of one SEL record.
const RecordSize = 16

// TypeSystemEvent is the record type of a system event record.
const TypeSystemEvent = 0x02

// Record type ranges of OEM records.
const (
	FirstOEMTimestamped    = 0xC0
	FirstOEMNonTimestamped = 0xE0
)

// Timestamp values with a meaning other than a wall-clock time (IPMI v2.0,
// section 37.1): up to PreInitTimestampMax a time counted from the SEL
// device's initialization, UnspecifiedTimestamp no time at all.
const (
	PreInitTimestampMax  = 0x20000000
	UnspecifiedTimestamp = 0xFFFFFFFF
)

// Generator ID [ParseText] gives its records, as ipmitool's `sel add` does:
// bit 0 set (a software ID), software ID 0x20 (system management software).
const TextGeneratorID = 0x0041

// Accepted EvM revisions: IPMI 1.5 and later, and IPMI 1.0.
const (
	EvMRev   = 0x04
	EvMRev10 = 0x03
)

// Reserved event/reading types (IPMI v2.0, table 42-1): 0x00 unspecified,
// 0x01 threshold, 0x02–0x0C generic discrete, 0x6F sensor-specific and
// 0x70–0x7F OEM are defined; the range between is reserved.
const (
	firstReservedEventType = 0x0D
	lastReservedEventType  = 0x6E
)

var le = binary.LittleEndian

// Record is one SEL record, the 16 bytes as the IPMI specification lays
// them out (see the package documentation). The zero Record is not valid
// (record type 0 is reserved).
type Record [RecordSize]byte

// Kind is the class of a record type.
type Kind int

// Record kinds.
const (
	KindReserved Kind = iota
	KindSystemEvent
	KindOEMTimestamped
	KindOEMNonTimestamped
)

// KindOf returns the class of record type t.
func KindOf(t byte) Kind {
	switch {
	case t == TypeSystemEvent:
		return KindSystemEvent
	case t >= FirstOEMNonTimestamped:
		return KindOEMNonTimestamped
	case t >= FirstOEMTimestamped:
		return KindOEMTimestamped
	}
	return KindReserved
}

func (k Kind) String() string {
	switch k {
	case KindSystemEvent:
		return "system event"
	case KindOEMTimestamped:
		return "OEM timestamped"
	case KindOEMNonTimestamped:
		return "OEM non-timestamped"
	}
	return "reserved"
}

// SystemEvent holds the fields of a system event record after its
// timestamp.
type SystemEvent struct {
	GeneratorID  uint16
	EvMRev       byte
	SensorType   byte
	SensorNumber byte
	// EventDirType is bit 7 the event direction (1: deassertion) and bits
	// 6:0 the event/reading type.
	EventDirType byte
	EventData    [3]byte
}

// Deassertion reports whether the event is a deassertion.
func (e SystemEvent) Deassertion() bool { return e.EventDirType&0x80 != 0 }

// EventType returns the event/reading type (bits 6:0 of EventDirType).
func (e SystemEvent) EventType() byte { return e.EventDirType & 0x7F }

// NewSystemEvent returns the system event record with the given ID,
// timestamp and fields. It does not validate them; see [Record.Validate].
func NewSystemEvent(id uint16, timestamp uint32, e SystemEvent) Record {
	var r Record
	le.PutUint16(r[0:], id)
	r[2] = TypeSystemEvent
	le.PutUint32(r[3:], timestamp)
	le.PutUint16(r[7:], e.GeneratorID)
	r[9], r[10], r[11], r[12] = e.EvMRev, e.SensorType, e.SensorNumber, e.EventDirType
	copy(r[13:], e.EventData[:])
	return r
}

// ID returns the record ID.
func (r Record) ID() uint16 { return le.Uint16(r[0:]) }

// SetID sets the record ID, as a SEL device does when it adds a record.
func (r *Record) SetID(id uint16) { le.PutUint16(r[0:], id) }

// Type returns the record type byte.
func (r Record) Type() byte { return r[2] }

// Kind returns the class of the record's type.
func (r Record) Kind() Kind { return KindOf(r[2]) }

// Timestamp returns the raw timestamp; ok is false for record kinds
// without one (OEM non-timestamped and reserved types).
func (r Record) Timestamp() (ts uint32, ok bool) {
	switch r.Kind() {
	case KindSystemEvent, KindOEMTimestamped:
		return le.Uint32(r[3:]), true
	}
	return 0, false
}

// SetTimestamp sets the timestamp, as a SEL device does when it adds a
// record; it reports false and changes nothing for a record kind without a
// timestamp.
func (r *Record) SetTimestamp(ts uint32) bool {
	if _, ok := r.Timestamp(); !ok {
		return false
	}
	le.PutUint32(r[3:], ts)
	return true
}

// Time returns the timestamp as a UTC wall-clock time; ok is false when the
// record has no timestamp, or it is unspecified (0xFFFFFFFF) or counted
// from the SEL device's initialization (at most 0x20000000).
func (r Record) Time() (t time.Time, ok bool) {
	ts, ok := r.Timestamp()
	if !ok || ts <= PreInitTimestampMax || ts == UnspecifiedTimestamp {
		return time.Time{}, false
	}
	return time.Unix(int64(ts), 0).UTC(), true
}

// SystemEvent returns the system event fields; ok is false for other kinds.
func (r Record) SystemEvent() (e SystemEvent, ok bool) {
	if r.Kind() != KindSystemEvent {
		return SystemEvent{}, false
	}
	e = SystemEvent{
		GeneratorID: le.Uint16(r[7:]),
		EvMRev:      r[9], SensorType: r[10], SensorNumber: r[11], EventDirType: r[12],
	}
	copy(e.EventData[:], r[13:16])
	return e, true
}

// ManufacturerID returns the manufacturer ID of an OEM timestamped record;
// ok is false for other kinds.
func (r Record) ManufacturerID() (id uint32, ok bool) {
	if r.Kind() != KindOEMTimestamped {
		return 0, false
	}
	return uint32(r[7]) | uint32(r[8])<<8 | uint32(r[9])<<16, true
}

// OEMData returns the OEM-defined bytes of an OEM record (6 of a
// timestamped record, 13 of a non-timestamped one); nil for other kinds.
func (r Record) OEMData() []byte {
	switch r.Kind() {
	case KindOEMTimestamped:
		return r[10:16:16]
	case KindOEMNonTimestamped:
		return r[3:16:16]
	}
	return nil
}

// Validate checks the record against the specification: the record type is
// not reserved; a system event has EvM revision 0x04 or 0x03 and no
// reserved event/reading type; an OEM timestamped record's manufacturer ID
// fits 20 bits. Errors wrap [ErrFormat] and name the byte.
func (r Record) Validate() error {
	switch r.Kind() {
	case KindSystemEvent:
		if r[9] != EvMRev && r[9] != EvMRev10 {
			return fmt.Errorf("%w: EvM revision 0x%02x (byte 9): want 0x%02x (IPMI 1.5 and later) or 0x%02x (IPMI 1.0)",
				ErrFormat, r[9], EvMRev, EvMRev10)
		}
		if t := r[12] & 0x7F; t >= firstReservedEventType && t <= lastReservedEventType {
			return fmt.Errorf("%w: event/reading type 0x%02x (byte 12, bits 6:0) is reserved (0x0d–0x6e)", ErrFormat, t)
		}
	case KindOEMTimestamped:
		if id, _ := r.ManufacturerID(); id > 0xFFFFF {
			return fmt.Errorf("%w: manufacturer ID 0x%06x (bytes 7–9, LS byte first) is wider than 20 bits", ErrFormat, id)
		}
	case KindReserved:
		return fmt.Errorf("%w: record type 0x%02x (byte 2) is reserved: want 0x%02x (system event), 0xc0–0xdf (OEM timestamped) or 0xe0–0xff (OEM non-timestamped)",
			ErrFormat, r[2], TypeSystemEvent)
	}
	return nil
}

// String returns a one-line description of the record.
func (r Record) String() string {
	s := fmt.Sprintf("id 0x%04x type 0x%02x (%s)", r.ID(), r.Type(), r.Kind())
	if ts, ok := r.Timestamp(); ok {
		if t, ok := r.Time(); ok {
			s += " at " + t.Format(time.RFC3339)
		} else {
			s += fmt.Sprintf(" at 0x%08x", ts)
		}
	}
	if e, ok := r.SystemEvent(); ok {
		dir := "assert"
		if e.Deassertion() {
			dir = "deassert"
		}
		return s + fmt.Sprintf(" gen 0x%04x evm 0x%02x sensor type 0x%02x #0x%02x event type 0x%02x %s data %02x %02x %02x",
			e.GeneratorID, e.EvMRev, e.SensorType, e.SensorNumber, e.EventType(), dir,
			e.EventData[0], e.EventData[1], e.EventData[2])
	}
	if id, ok := r.ManufacturerID(); ok {
		s += fmt.Sprintf(" manufacturer %d", id)
	}
	if d := r.OEMData(); d != nil {
		s += fmt.Sprintf(" data % x", d)
	}
	return s
}

// NextID returns the record ID a SEL device assigns after id: id+1,
// skipping 0x0000 and 0xFFFF, which Get SEL Entry reserves for "first" and
// "last" (so after 0xFFFE, and after either reserved value, comes 1).
func NextID(id uint16) uint16 {
	next := id + 1
	if next == 0 || next == 0xFFFF {
		return 1
	}
	return next
}
