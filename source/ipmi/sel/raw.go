package sel

import "fmt"

// Layout is the byte order of a raw file's OEM timestamped records.
type Layout int

// Raw layouts.
const (
	// LayoutIPMI is the specification's layout: what a BMC stores, Get SEL
	// Entry returns and the event-log ring holds.
	LayoutIPMI Layout = iota
	// LayoutIpmitool is what `ipmitool sel writeraw` saves: the same, but
	// with an OEM timestamped record's manufacturer ID (bytes 7–9) most
	// significant byte first.
	LayoutIpmitool
)

func (l Layout) String() string {
	if l == LayoutIpmitool {
		return "ipmitool"
	}
	return "ipmi"
}

// ParseRaw parses a raw SEL file: a sequence of 16-byte records (see the
// package documentation), in the given layout, returned in the
// specification's layout. An empty input holds no records. Every error
// wraps [ErrFormat] and names the record and its offset; a length that is
// not a multiple of 16 is reported as a partial last record.
func ParseRaw(b []byte, layout Layout) ([]Record, error) {
	if rest := len(b) % RecordSize; rest != 0 {
		return nil, fmt.Errorf("%w: %d bytes is not a whole number of %d-byte records: the last %d bytes, at offset %#x, are a partial record",
			ErrFormat, len(b), RecordSize, rest, len(b)-rest)
	}
	recs := make([]Record, 0, len(b)/RecordSize)
	for off := 0; off < len(b); off += RecordSize {
		var r Record
		copy(r[:], b[off:off+RecordSize])
		if layout == LayoutIpmitool {
			swapManufacturer(&r)
		}
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("record %d at offset %#x: %w%s", len(recs), off, err, layoutHint(r, layout))
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// AppendRaw appends the records to dst in the given layout and returns the
// extended slice.
func AppendRaw(dst []byte, recs []Record, layout Layout) []byte {
	for _, r := range recs {
		if layout == LayoutIpmitool {
			swapManufacturer(&r)
		}
		dst = append(dst, r[:]...)
	}
	return dst
}

// swapManufacturer reverses the manufacturer ID bytes of an OEM timestamped
// record (the only difference between the two layouts).
func swapManufacturer(r *Record) {
	if r.Kind() == KindOEMTimestamped {
		r[7], r[9] = r[9], r[7]
	}
}

// layoutHint suggests the other layout when a manufacturer ID is too wide
// in this one but fits in the other.
func layoutHint(r Record, layout Layout) string {
	if r.Kind() != KindOEMTimestamped {
		return ""
	}
	swapManufacturer(&r)
	if r.Validate() != nil {
		return ""
	}
	other := LayoutIpmitool
	if layout == LayoutIpmitool {
		other = LayoutIPMI
	}
	return fmt.Sprintf(" (the record is valid in the %s layout: was the file written by %s?)", other, writerOf(other))
}

func writerOf(l Layout) string {
	if l == LayoutIpmitool {
		return "`ipmitool sel writeraw`"
	}
	return "a BMC or the event-log ring, not ipmitool"
}
