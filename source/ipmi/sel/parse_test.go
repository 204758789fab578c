package sel

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseDetects(t *testing.T) {
	raw := AppendRaw(nil, []Record{tempEvent, oemStamped}, LayoutIpmitool)
	for _, tc := range []struct {
		name       string
		in         []byte
		wantFormat Format
		wantN      int
		wantErr    string
	}{
		{"raw", raw, FormatRaw, 2, ""},
		{"text", []byte(ipmitoolSave), FormatText, 2, ""},
		{"empty", nil, FormatRaw, 0, ""},
		{"text with a stray control byte", []byte("0x04 0x01\x00"), FormatRaw, 0, "partial record"},
		{"latin-1 comment", []byte("0x04 0x01 0x30 0x01 0x57 0x52 0x50 # caf\xe9\n"), FormatRaw, 0, "partial record"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.wantFormat, Detect(tc.in))
			recs, f, err := Parse(tc.in, LayoutIpmitool)
			require.Equal(t, tc.wantFormat, f)
			if tc.wantErr != "" {
				require.ErrorIs(t, err, ErrFormat)
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Len(t, recs, tc.wantN)
		})
	}
	// Every valid record type byte is a control or non-ASCII byte, so no
	// valid raw file is taken for text.
	for typ := 0; typ < 256; typ++ {
		r := tempEvent
		r[2] = byte(typ)
		if r.Validate() == nil {
			require.Equal(t, FormatRaw, Detect(r[:]), "type 0x%02x", typ)
		}
	}
}
