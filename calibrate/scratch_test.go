package calibrate_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/calibrate"
)

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want calibrate.Range
		back string
	}{
		{"0x7f00000+1M", calibrate.Range{Off: 0x7f00000, Size: 1 << 20}, "0x7f00000+1MiB"},
		{"127M+1M", calibrate.Range{Off: 127 << 20, Size: 1 << 20}, "0x7f00000+1MiB"},
		{"0+64K", calibrate.Range{Off: 0, Size: 64 << 10}, "0x0+64KiB"},
		{"0x0+0x10000", calibrate.Range{Off: 0, Size: 64 << 10}, "0x0+64KiB"},
		{"4096+12288", calibrate.Range{Off: 4096, Size: 12 << 10}, "0x1000+12KiB"},
		{"0X1000+4KiB", calibrate.Range{Off: 4096, Size: 4096}, "0x1000+4KiB"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := calibrate.ParseRange(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.back, got.String())
			again, err := calibrate.ParseRange(got.String())
			require.NoError(t, err)
			require.Equal(t, got, again)
		})
	}
	for _, tc := range []struct{ in, want string }{
		{"", "want OFFSET+SIZE"},
		{"1M", "want OFFSET+SIZE"},
		{"0+1M+1M", "want OFFSET+SIZE"},
		{"0+0", "size: size \"0\": want a positive size"},
		{"0+0x0", "want a positive size"},
		{"-4096+4K", "offset"},
		{"0x+4K", "not a hexadecimal byte count"},
		{"0xfffffffffffffffff+4K", "not a hexadecimal byte count"},
		{"0x20000000000+4K", "too large"},
		{"1023G+2G", "ends beyond 1024GiB"},
		{"1M+4X", "optional K, M or G suffix"},
	} {
		t.Run("bad "+tc.in, func(t *testing.T) {
			_, err := calibrate.ParseRange(tc.in)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"0x7f00000+1M", "127M+1M", "0+64K", "0x0+0x10000", "1+1", "+", "0x+", "1023G+2G"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := calibrate.ParseRange(s)
		if err != nil {
			return
		}
		require.GreaterOrEqual(t, r.Off, int64(0))
		require.Positive(t, r.Size)
		back, err := calibrate.ParseRange(r.String())
		require.NoError(t, err, r.String())
		require.Equal(t, r, back)
	})
}
