package sel

import (
	"bytes"
	"testing"
)

// FuzzSEL: Parse never panics on any input in either layout; whatever
// parses as raw re-encodes to the same bytes, and whatever parses as text
// survives AppendText and ParseText unchanged.
func FuzzSEL(f *testing.F) {
	f.Add(AppendRaw(nil, []Record{tempEvent, memDeassert, oemStamped, oemPlain}, LayoutIPMI))
	f.Add(AppendRaw(nil, []Record{oemStamped}, LayoutIpmitool))
	f.Add([]byte(ipmitoolSave))
	f.Add([]byte("4 1 48 1 87 82 0120 # x\n\n"))
	f.Add(bytes.Repeat([]byte{0xFF}, 17))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, layout := range []Layout{LayoutIPMI, LayoutIpmitool} {
			recs, format, err := Parse(b, layout)
			if err != nil {
				continue
			}
			for i, r := range recs {
				if err := r.Validate(); err != nil {
					t.Fatalf("record %d accepted but invalid: %v", i, err)
				}
				_ = r.String()
			}
			if format == FormatRaw {
				if got := AppendRaw(nil, recs, layout); !bytes.Equal(got, b) {
					t.Fatalf("raw %s: re-encodes differently:\n got %x\nwant %x", layout, got, b)
				}
				continue
			}
			text, err := AppendText(nil, recs)
			if err != nil {
				t.Fatalf("text records do not format: %v", err)
			}
			back, err := ParseText(text)
			if err != nil {
				t.Fatalf("formatted text does not parse: %v\n%s", err, text)
			}
			if len(back) != len(recs) {
				t.Fatalf("text round trip: %d records, want %d", len(back), len(recs))
			}
			for i := range recs {
				if back[i] != recs[i] {
					t.Fatalf("text round trip: record %d is %v, want %v", i, back[i], recs[i])
				}
			}
		}
	})
}
