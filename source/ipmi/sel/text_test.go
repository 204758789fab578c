package sel

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// ipmitoolSave is a file as `ipmitool sel save` writes it (lib/ipmi_sel.c,
// ipmi_sel_print_event_file: seven 0x%02x values, then "# sensor type
// #0xNN description") and `ipmitool sel add` reads it.
const ipmitoolSave = `0x04 0x01 0x30 0x01 0x57 0x52 0x50 # Temperature #0x30 Upper Non-critical going high
0x04 0x0c 0x70 0xef 0xa0 0xff 0x03 # Memory #0x70 Correctable ECC
`

func TestParseText(t *testing.T) {
	want := func(evm, st, sn, dir, d1, d2, d3 byte) Record {
		return NewSystemEvent(0, 0, SystemEvent{GeneratorID: TextGeneratorID, EvMRev: evm, SensorType: st,
			SensorNumber: sn, EventDirType: dir, EventData: [3]byte{d1, d2, d3}})
	}
	temp := want(0x04, 0x01, 0x30, 0x01, 0x57, 0x52, 0x50)
	mem := want(0x04, 0x0c, 0x70, 0xef, 0xa0, 0xff, 0x03)
	for _, tc := range []struct {
		name    string
		in      string
		want    []Record
		wantErr string
	}{
		{"ipmitool sel save", ipmitoolSave, []Record{temp, mem}, ""},
		{"blank lines, comments, CRLF, tabs", "# saved SEL\r\n\r\n  0x04\t0x01 0x30 0x01 0x57 0x52 0x50  \r\n#0x04 0x01\n", []Record{temp}, ""},
		{"decimal and octal", "4 1 48 1 87 82 0120\n", []Record{temp}, ""},
		{"no trailing newline", "0x04 0x0c 0x70 0xef 0xa0 0xff 0x03", []Record{mem}, ""},
		{"only comments", "# nothing\n\n", nil, ""},
		{"six values", "# ok\n0x04 0x01 0x30 0x01 0x57 0x52\n", nil, "line 2: 6 values, want 7 (EvM revision, sensor type"},
		{"eight values", "0x04 0x01 0x30 0x01 0x57 0x52 0x50 0x00\n", nil, "line 1: 8 values, want 7"},
		{"too large", "0x04 0x01 0x30 0x01 0x57 0x52 0x100\n", nil, `line 1: event data 3 "0x100": not a byte value`},
		{"not a number", "0x04 temp 0x30 0x01 0x57 0x52 0x50\n", nil, `line 1: sensor type "temp": not a byte value`},
		{"digit separator", "0x04 0x01 0x3_0 0x01 0x57 0x52 0x50\n", nil, `line 1: sensor number "0x3_0"`},
		{"0b prefix", "0x04 0x01 0x30 0b1 0x57 0x52 0x50\n", nil, `line 1: event dir/type "0b1"`},
		{"negative", "-4 0x01 0x30 0x01 0x57 0x52 0x50\n", nil, `line 1: EvM revision "-4"`},
		{"bad EvM revision", "\n\n0x00 0x01 0x30 0x01 0x57 0x52 0x50\n", nil, "line 3: malformed SEL data: EvM revision 0x00 (byte 9)"},
		{"reserved event type", "0x04 0x01 0x30 0x20 0x57 0x52 0x50\n", nil, "line 1: malformed SEL data: event/reading type 0x20"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseText([]byte(tc.in))
			if tc.wantErr != "" {
				require.ErrorIs(t, err, ErrFormat)
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestAppendText(t *testing.T) {
	out, err := AppendText(nil, []Record{tempEvent, memDeassert})
	require.NoError(t, err)
	require.Equal(t, "0x04 0x01 0x30 0x01 0x57 0x52 0x50 # id 0x0001 at 2026-01-01T00:00:00Z gen 0x0020\n"+
		"0x04 0x0c 0x70 0xef 0xa0 0xff 0x03 # id 0x0002 at 2026-01-01T00:00:16Z gen 0x0022\n", string(out))

	back, err := ParseText(out)
	require.NoError(t, err)
	require.Len(t, back, 2)
	for i, r := range []Record{tempEvent, memDeassert} {
		require.Equal(t, r[9:], back[i][9:], "record %d: the event fields survive the text form", i)
	}

	_, err = AppendText(nil, []Record{tempEvent, oemPlain})
	require.ErrorIs(t, err, ErrFormat)
	require.ErrorContains(t, err, "record 1 (id 0x0004) is OEM non-timestamped (type 0xe0): only system events have a text form")
}
