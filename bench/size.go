package bench

import (
	"strings"

	"github.com/cmcsync/cmcsync/hal"
)

// ParseSizes parses a comma-separated list of sizes ("1M,8M,32M"), each as
// hal.ParseSize reads it.
func ParseSizes(s string) ([]int64, error) {
	var out []int64
	for _, f := range strings.Split(s, ",") {
		n, err := hal.ParseSize(f)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}
