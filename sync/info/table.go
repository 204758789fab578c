package info

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Table is a decoded payload in this package's table format (see
// payload.go's layout): the header fields, the fixed section and the ring.
// A Table from DecodeTable aliases the payload it was decoded from; one
// from NewTable or Resized owns its bytes. Writers change Fixed in place and
// append through Add, then store Encode's bytes with Region.Write or
// Region.Rewrite. The methods keep Slots, Count, Next and Ring consistent;
// a writer that sets them directly must keep Count <= Slots,
// len(Ring) == Count*EntrySize and Next as DecodeTable requires.
type Table struct {
	Type      Type
	Slots     uint32 // ring capacity in entries; 0 when the type has no ring
	Count     uint32 // entries present, at most Slots
	Next      uint32 // slot the next Add writes: Count while Count < Slots
	Updated   uint32 // seconds since the Unix epoch of the last change
	EntrySize int    // bytes per ring entry; 0 when the type has no ring
	Fixed     []byte // the fixed section, PayloadSizes(Type) bytes
	Ring      []byte // Count*EntrySize bytes, slot order (not oldest first once the ring wraps)
}

var errPayload = errors.New("malformed payload")

// DecodeTable parses a payload of type t and checks it is self-consistent:
// type, format version, the type's fixed and entry sizes, counts, next slot
// and length. The returned table aliases p (Fixed and Ring are slices of
// it): changing one changes the other. A malformed payload returns an error
// saying what is wrong.
func DecodeTable(t Type, p []byte) (*Table, error) {
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
	fixed, entry := PayloadSizes(t)
	tb := &Table{
		Type:      t,
		EntrySize: int(binary.LittleEndian.Uint16(p[4:])),
		Slots:     binary.LittleEndian.Uint32(p[8:]),
		Count:     binary.LittleEndian.Uint32(p[12:]),
		Next:      binary.LittleEndian.Uint32(p[16:]),
		Updated:   binary.LittleEndian.Uint32(p[20:]),
	}
	if f := int(binary.LittleEndian.Uint16(p[2:])); f != fixed || tb.EntrySize != entry {
		return nil, fmt.Errorf("%w: %v payload has fixed section %d and entry size %d, want %d and %d", errPayload, t, f, tb.EntrySize, fixed, entry)
	}
	if r := binary.LittleEndian.Uint16(p[6:]); r != 0 {
		return nil, fmt.Errorf("%w: reserved field %#x, want 0", errPayload, r)
	}
	if entry == 0 && (tb.Slots != 0 || tb.Count != 0 || tb.Next != 0) {
		return nil, fmt.Errorf("%w: %v payload has no ring but says %d slots, %d entries", errPayload, t, tb.Slots, tb.Count)
	}
	if tb.Count > tb.Slots {
		return nil, fmt.Errorf("%w: %d entries in %d slots", errPayload, tb.Count, tb.Slots)
	}
	if !validNext(tb.Slots, tb.Count, tb.Next) {
		return nil, fmt.Errorf("%w: next slot %d with %d of %d slots used", errPayload, tb.Next, tb.Count, tb.Slots)
	}
	want := int64(PayloadHeaderSize) + int64(fixed) + int64(tb.Count)*int64(entry)
	if int64(len(p)) != want {
		return nil, fmt.Errorf("%w: %d bytes, header implies %d", errPayload, len(p), want)
	}
	tb.Fixed = p[PayloadHeaderSize : PayloadHeaderSize+fixed]
	tb.Ring = p[PayloadHeaderSize+fixed:]
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

// NewTable returns an empty table of type t with the given ring slots
// (ignored for a type without a ring) and the fixed section holding the
// type's factory defaults (as Default). t must be valid.
func NewTable(t Type, slots uint32) *Table {
	fixed, entry := PayloadSizes(t)
	if entry == 0 {
		slots = 0
	}
	tb := &Table{Type: t, Slots: slots, EntrySize: entry, Fixed: make([]byte, fixed)}
	defaultFixed(t, tb.Fixed)
	return tb
}

// Encode returns the payload bytes of tb, a new slice that does not alias
// tb.
func (tb *Table) Encode() []byte {
	p := make([]byte, PayloadHeaderSize, PayloadHeaderSize+len(tb.Fixed)+len(tb.Ring))
	p[0] = byte(tb.Type)
	p[1] = payloadVersion
	binary.LittleEndian.PutUint16(p[2:], uint16(len(tb.Fixed)))
	binary.LittleEndian.PutUint16(p[4:], uint16(tb.EntrySize))
	binary.LittleEndian.PutUint32(p[8:], tb.Slots)
	binary.LittleEndian.PutUint32(p[12:], tb.Count)
	binary.LittleEndian.PutUint32(p[16:], tb.Next)
	binary.LittleEndian.PutUint32(p[20:], tb.Updated)
	p = append(p, tb.Fixed...)
	return append(p, tb.Ring...)
}

// Add appends one ring entry (len(e) == EntrySize), overwriting the oldest
// when the ring is full; e is copied, not retained. It does nothing when the
// ring has no slots. While the ring grows, Ring may be reallocated (it then
// no longer aliases a decoded payload); once full, the oldest entry is
// overwritten in place.
func (tb *Table) Add(e []byte) {
	if tb.Slots == 0 || tb.EntrySize == 0 {
		return
	}
	if tb.Count < tb.Slots {
		tb.Ring = append(tb.Ring, e...)
		tb.Count++
		tb.Next = tb.Count
		if tb.Count == tb.Slots {
			tb.Next = 0
		}
		return
	}
	off := int(tb.Next) * tb.EntrySize
	copy(tb.Ring[off:off+tb.EntrySize], e)
	tb.Next = (tb.Next + 1) % tb.Slots
}

// Newest returns the most recently added entry, or nil when the ring is
// empty. The result aliases Ring.
func (tb *Table) Newest() []byte {
	if tb.Count == 0 {
		return nil
	}
	i := int(tb.Count) - 1
	if tb.Count == tb.Slots {
		i = (int(tb.Next) + int(tb.Slots) - 1) % int(tb.Slots)
	}
	return tb.Ring[i*tb.EntrySize : (i+1)*tb.EntrySize]
}

// Resized returns tb with a ring of slots entries, keeping the newest
// entries in oldest-to-newest order when the ring shrinks or a full ring
// grows. It returns tb itself when the type has no ring or slots is
// unchanged; otherwise a new Table whose Ring is a new slice and whose Fixed
// aliases tb's. tb is not changed.
func (tb *Table) Resized(slots uint32) *Table {
	if tb.EntrySize == 0 || slots == tb.Slots {
		return tb
	}
	ordered := tb.Ring
	if tb.Count == tb.Slots && tb.Next != 0 {
		cut := int(tb.Next) * tb.EntrySize
		ordered = append(append([]byte(nil), tb.Ring[cut:]...), tb.Ring[:cut]...)
	}
	count := tb.Count
	if count > slots {
		ordered = ordered[int(count-slots)*tb.EntrySize:]
		count = slots
	}
	nt := *tb
	nt.Slots = slots
	nt.Count = count
	nt.Ring = append([]byte(nil), ordered...)
	nt.Next = count
	if count == slots {
		nt.Next = 0
	}
	return &nt
}
