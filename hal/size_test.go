package hal_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"1", 1}, {"4096", 4096}, {"4K", 4 << 10}, {"4k", 4 << 10}, {"4KiB", 4 << 10}, {"512K", 512 << 10},
		{"3m", 3 << 20}, {"8M", 8 << 20}, {"32MiB", 32 << 20}, {"1G", 1 << 30}, {"1g", 1 << 30}, {"1536K", 1536 << 10},
		{" 2m ", 2 << 20}, {"1024G", 1 << 40}, {"1099511627776", 1 << 40},
	} {
		got, err := hal.ParseSize(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
		back, err := hal.ParseSize(hal.FormatSize(got))
		require.NoError(t, err, tc.in)
		require.Equal(t, got, back, "FormatSize reads back")
	}
	for _, tc := range []struct{ in, want string }{
		{"", "optional K, M or G suffix"},
		{"M", "optional K, M or G suffix"},
		{"-1M", "optional K, M or G suffix"},
		{"+1M", "optional K, M or G suffix"},
		{"1.5M", "optional K, M or G suffix"},
		{"8T", "optional K, M or G suffix"},
		{"4X", "optional K, M or G suffix"},
		{"0x1000", "optional K, M or G suffix"},
		{"0", "want a positive size"},
		{"0K", "want a positive size"},
		{"1025G", "too large (at most 1024GiB)"},
		{"1099511627777", "too large"},
		{"9999999999G", "too large"},
		{"99999999999999999999", "too large"},
	} {
		_, err := hal.ParseSize(tc.in)
		require.ErrorContains(t, err, tc.want, tc.in)
		require.ErrorContains(t, err, `"`+tc.in+`"`, "the error names the input")
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"8M", "32MiB", "4096", "1g", "", "-3k", "99999999999999999999", "1024G"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := hal.ParseSize(s)
		if err != nil {
			return
		}
		if n <= 0 || n > hal.MaxParsedSize {
			t.Fatalf("ParseSize(%q) = %d, want in (0, %d]", s, n, int64(hal.MaxParsedSize))
		}
		if back, err := hal.ParseSize(hal.FormatSize(n)); err != nil || back != n {
			t.Fatalf("ParseSize(FormatSize(%d)) = %d, %v", n, back, err)
		}
	})
}
