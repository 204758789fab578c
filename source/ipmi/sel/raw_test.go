package sel

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseRaw(t *testing.T) {
	all := []Record{tempEvent, memDeassert, oemStamped, oemPlain}
	spec := AppendRaw(nil, all, LayoutIPMI)
	reserved := bytes.Clone(spec)
	reserved[16+2] = 0x10 // second record's type
	for _, tc := range []struct {
		name    string
		in      []byte
		layout  Layout
		want    []Record
		wantErr string
	}{
		{"empty", nil, LayoutIPMI, []Record{}, ""},
		{"spec layout", spec, LayoutIPMI, all, ""},
		{"ipmitool layout", AppendRaw(nil, all, LayoutIpmitool), LayoutIpmitool, all, ""},
		{"partial record", spec[:40], LayoutIPMI, nil,
			"40 bytes is not a whole number of 16-byte records: the last 8 bytes, at offset 0x20, are a partial record"},
		{"one byte", []byte{0x02}, LayoutIPMI, nil, "the last 1 bytes, at offset 0x0, are a partial record"},
		{"reserved type", reserved, LayoutIPMI, nil, "record 1 at offset 0x10: malformed SEL data: record type 0x10 (byte 2) is reserved"},
		{"erased flash", bytes.Repeat([]byte{0xFF}, 32), LayoutIPMI,
			[]Record{rec(bytes.Repeat([]byte{0xFF}, 16)...), rec(bytes.Repeat([]byte{0xFF}, 16)...)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRaw(tc.in, tc.layout)
			if tc.wantErr != "" {
				require.ErrorIs(t, err, ErrFormat)
				require.ErrorContains(t, err, tc.wantErr)
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.in, AppendRaw(nil, got, tc.layout), "re-encodes to the same bytes")
		})
	}
}

// TestIpmitoolLayout: `ipmitool sel writeraw` writes an OEM timestamped
// record's manufacturer ID most significant byte first (ipmitool's
// ipmi_sel_get_std_entry copies record bytes 9, 8, 7 into manf_id[0..2] and
// fwrite writes the struct); every other byte is as the specification has
// it.
func TestIpmitoolLayout(t *testing.T) {
	raw := AppendRaw(nil, []Record{tempEvent, oemStamped, oemPlain}, LayoutIpmitool)
	require.Equal(t, tempEvent[:], raw[0:16])
	require.Equal(t, []byte{0x00, 0x01, 0x57}, raw[16+7:16+10], "manufacturer ID 0x000157, MS byte first")
	require.Equal(t, oemStamped[10:], raw[16+10:32])
	require.Equal(t, oemPlain[:], raw[32:48])

	// Read in the wrong layout, Intel's ID 0x000157 becomes 0x570100, too
	// wide for 20 bits, and the error names the layout to use.
	_, err := ParseRaw(raw, LayoutIPMI)
	require.ErrorIs(t, err, ErrFormat)
	require.ErrorContains(t, err, "record 1 at offset 0x10")
	require.ErrorContains(t, err, "manufacturer ID 0x570100")
	require.ErrorContains(t, err, "valid in the ipmitool layout: was the file written by `ipmitool sel writeraw`?")

	_, err = ParseRaw(AppendRaw(nil, []Record{oemStamped}, LayoutIPMI), LayoutIpmitool)
	require.ErrorContains(t, err, "valid in the ipmi layout")

	// A record wrong in both layouts gets no hint.
	both := oemStamped
	both[7], both[9] = 0x10, 0x10
	_, err = ParseRaw(both[:], LayoutIPMI)
	require.ErrorIs(t, err, ErrFormat)
	require.NotContains(t, err.Error(), "layout")
}
