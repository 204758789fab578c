package hal

import (
	"fmt"
	"strconv"
	"strings"
)

// FormatSize formats n bytes as the largest binary unit that divides it
// exactly: "128MiB", "4KiB", "1000".
func FormatSize(n int64) string {
	switch {
	case n != 0 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n != 0 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n != 0 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%d", n)
}

// MaxParsedSize is the largest size ParseSize accepts: 1 TiB, beyond any
// flash device or information region this project handles.
const MaxParsedSize = 1 << 40

// ParseSize parses a positive byte count of at most MaxParsedSize: decimal
// digits with an optional binary suffix K, M or G (also KiB, MiB, GiB; any
// case), surrounding spaces ignored: "4096", "64K", "4M", "32MiB", "1g".
// It reads back what FormatSize writes. Signs, fractions, other suffixes,
// zero and sizes above MaxParsedSize are errors naming the input.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	num, shift := t, 0
	u := strings.ToUpper(t)
	for _, suf := range []struct {
		s     string
		shift int
	}{{"KIB", 10}, {"MIB", 20}, {"GIB", 30}, {"K", 10}, {"M", 20}, {"G", 30}} {
		if strings.HasSuffix(u, suf.s) {
			num, shift = t[:len(t)-len(suf.s)], suf.shift
			break
		}
	}
	if num == "" || strings.TrimLeft(num, "0123456789") != "" {
		return 0, fmt.Errorf("size %q: want a number of bytes with an optional K, M or G suffix (4M = 4 MiB)", s)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > MaxParsedSize>>shift {
		return 0, fmt.Errorf("size %q is too large (at most %s)", s, FormatSize(MaxParsedSize))
	}
	if n == 0 {
		return 0, fmt.Errorf("size %q: want a positive size", s)
	}
	return n << shift, nil
}
