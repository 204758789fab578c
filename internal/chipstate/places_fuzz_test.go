package chipstate

import (
	"testing"
)

// FuzzPlaces: any place or identity spec is resolved or refused with
// ErrPlace, never a panic or a negative range.
func FuzzPlaces(f *testing.F) {
	for _, s := range []string{"cmc-info", "0x6a00000+4MiB", "0+0", "uimage:kernel", "sha256:1M+64K", "fit:", "+", "-1+5", "0x+0x"} {
		f.Add(s)
	}
	parts := []Partition{{Name: "kernel", Dev: "mtd2", Off: 0x100000, Size: 0x900000}, {Name: "cmc-info", Dev: "mtd5", Off: 0x6a00000, Size: 0x400000}}
	f.Fuzz(func(t *testing.T, s string) {
		off, size, err := PlaceRange(parts, s)
		if err == nil && (off < 0 || size < 0) {
			t.Fatalf("%q: negative range %d+%d", s, off, size)
		}
		_, _ = Identity(s, parts)
	})
}
