package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var testEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"4096", 4096}, {"512K", 512 << 10}, {"8M", 8 << 20}, {"32MiB", 32 << 20}, {"1g", 1 << 30}, {" 2m ", 2 << 20},
	} {
		got, err := ParseSize(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
	for _, bad := range []string{"", "0", "-1M", "1.5M", "8T", "M", "9999999999G"} {
		_, err := ParseSize(bad)
		require.Error(t, err, bad)
	}
	s, err := ParseSizes("1M,8M")
	require.NoError(t, err)
	require.Equal(t, []int64{1 << 20, 8 << 20}, s)
	_, err = ParseSizes("1M,,8M")
	require.Error(t, err)
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"8M", "32MiB", "4096", "1g", "", "-3k", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			return
		}
		if n <= 0 || n > 1<<40 {
			t.Fatalf("ParseSize(%q) = %d, want in (0, 1 TiB]", s, n)
		}
	})
}
