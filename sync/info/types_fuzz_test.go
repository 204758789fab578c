package info

import (
	"slices"
	"testing"
)

// FuzzParseList: no panic on any text; a list that parses is non-empty, in
// layout order without duplicates, and FormatList prints it back to text
// that parses to the same list (what --select, config set --types and the
// configuration file's "select" take).
func FuzzParseList(f *testing.F) {
	for _, s := range []string{"all", "power,fan", "sel,fru", " Power , ,fan", "power,power", "", ",", "psu", "ALL", "event_log"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := ParseList(s)
		if err != nil {
			return
		}
		if len(ts) == 0 {
			t.Fatalf("%q parses to an empty list", s)
		}
		if !slices.IsSorted(ts) || len(slices.Compact(slices.Clone(ts))) != len(ts) {
			t.Fatalf("%q parses to %v: not in layout order without duplicates", s, ts)
		}
		back, err := ParseList(FormatList(ts))
		if err != nil || !slices.Equal(back, ts) {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, ts, FormatList(ts), back, err)
		}
	})
}
