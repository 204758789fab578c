package chipstate

import (
	"slices"
	"strings"
	"testing"
)

// FuzzParseForce (--force): any value either is refused, naming what is
// not a chip, or forces exactly the chips one of its comma-separated
// fields names; the empty value forces none.
func FuzzParseForce(f *testing.F) {
	for _, s := range []string{"", "primary", "backup", "primary,backup", " backup , primary", "both", ",", "primary,", "primary,primary"} {
		f.Add(s)
	}
	names := []string{"primary", "backup"}
	f.Fuzz(func(t *testing.T, s string) {
		force, err := ParseForce(s, names...)
		if err != nil {
			if !strings.Contains(err.Error(), "is not a chip") {
				t.Fatalf("ParseForce(%q): %v", s, err)
			}
			for _, w := range strings.Split(s, ",") {
				if !slices.Contains(names, strings.TrimSpace(w)) {
					return
				}
			}
			t.Fatalf("ParseForce(%q) refused a value whose every field names a chip: %v", s, err)
		}
		if len(force) != len(names) {
			t.Fatalf("ParseForce(%q) = %v: want one flag per chip", s, force)
		}
		for i, n := range names {
			named := false
			for _, w := range strings.Split(s, ",") {
				named = named || s != "" && strings.TrimSpace(w) == n
			}
			if force[i] != named {
				t.Fatalf("ParseForce(%q): %s forced %v, named %v", s, n, force[i], named)
			}
		}
	})
}
