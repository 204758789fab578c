package bench

import (
	"strings"
	"testing"

	"github.com/cmcsync/cmcsync/hal"
)

// FuzzParseSizes (--sizes): any list either fails or gives one size per
// comma-separated field, each what hal.ParseSize reads that field as.
func FuzzParseSizes(f *testing.F) {
	for _, s := range []string{"1M,8M,32M", " 512K, 2m ", "1M,,8M", "1M,8T", "", ",", "4096"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sizes, err := ParseSizes(s)
		if err != nil {
			return
		}
		fields := strings.Split(s, ",")
		if len(sizes) != len(fields) {
			t.Fatalf("ParseSizes(%q) = %v: %d sizes for %d fields", s, sizes, len(sizes), len(fields))
		}
		for i, n := range sizes {
			if want, err := hal.ParseSize(fields[i]); err != nil || n != want {
				t.Fatalf("ParseSizes(%q)[%d] = %d, hal.ParseSize(%q) = %d, %v", s, i, n, fields[i], want, err)
			}
		}
	})
}
