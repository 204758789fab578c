package sel

// Format is a SEL file format.
type Format int

// File formats.
const (
	FormatRaw Format = iota
	FormatText
)

func (f Format) String() string {
	if f == FormatText {
		return "text"
	}
	return "raw"
}

// Detect returns the format of a SEL file: text when every byte is
// printable ASCII or white space, raw otherwise. Every valid raw record has
// a control or non-ASCII byte (its record type), so a valid raw file never
// reads as text.
func Detect(b []byte) Format {
	for _, c := range b {
		if (c < 0x20 || c > 0x7E) && c != '\t' && c != '\n' && c != '\r' && c != '\v' && c != '\f' {
			return FormatRaw
		}
	}
	if len(b) == 0 {
		return FormatRaw
	}
	return FormatText
}

// Parse parses a SEL file in either format ([Detect]), a raw one in the
// given layout, and returns its records and the format found. The format
// matters to a writer: text records carry no ID or timestamp, so a SEL
// device stamps both when it adds them, while raw records carry their own.
func Parse(b []byte, layout Layout) ([]Record, Format, error) {
	if f := Detect(b); f == FormatText {
		recs, err := ParseText(b)
		return recs, f, err
	}
	recs, err := ParseRaw(b, layout)
	return recs, FormatRaw, err
}
