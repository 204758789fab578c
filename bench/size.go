package bench

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseSize parses a byte size: a decimal number of bytes, or one followed
// by K, M or G (binary multiples; "KiB", "MiB", "GiB" and lower case are
// accepted too), e.g. "512K", "8M", "32MiB".
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	lower := strings.ToLower(t)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}} {
		if strings.HasSuffix(lower, u.suffix) {
			mult = u.mult
			t = t[:len(t)-len(u.suffix)]
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<40)/mult {
		return 0, fmt.Errorf("size %q: want a positive number of bytes, optionally with K, M or G (e.g. 8M), at most 1 TiB", s)
	}
	return n * mult, nil
}

// ParseSizes parses a comma-separated list of sizes ("1M,8M,32M").
func ParseSizes(s string) ([]int64, error) {
	var out []int64
	for _, f := range strings.Split(s, ",") {
		n, err := ParseSize(f)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}
