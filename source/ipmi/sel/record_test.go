package sel

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// rec builds a record from its 16 bytes, written as the specification lists
// them (test helper).
func rec(b ...byte) Record {
	var r Record
	if len(b) != RecordSize {
		panic("rec: want 16 bytes")
	}
	copy(r[:], b)
	return r
}

// Fixtures built from the IPMI v2.0 specification, section 32.
var (
	// Record 0x0001 at 2026-01-01 00:00:00 UTC (0x6955b900): generator BMC
	// (slave address 0x20), temperature sensor 0x30, threshold event
	// "upper non-critical going high" (offset 7), trigger reading 0x52,
	// threshold 0x50.
	tempEvent = rec(0x01, 0x00, 0x02, 0x00, 0xb9, 0x55, 0x69, 0x20, 0x00, 0x04, 0x01, 0x30, 0x01, 0x57, 0x52, 0x50)
	// Deassertion of a sensor-specific memory event (ECC correctable, offset 0).
	memDeassert = rec(0x02, 0x00, 0x02, 0x10, 0xb9, 0x55, 0x69, 0x22, 0x00, 0x04, 0x0c, 0x70, 0xef, 0xa0, 0xff, 0x03)
	// OEM timestamped record, type 0xC1, manufacturer 343 (Intel, 0x000157).
	oemStamped = rec(0x03, 0x00, 0xc1, 0x20, 0xb9, 0x55, 0x69, 0x57, 0x01, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01)
	// OEM non-timestamped record, type 0xE0.
	oemPlain = rec(0x04, 0x00, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)
)

func TestKindOf(t *testing.T) {
	for _, tc := range []struct {
		typ  byte
		want Kind
	}{
		{0x00, KindReserved}, {0x01, KindReserved}, {0x02, KindSystemEvent}, {0x03, KindReserved},
		{0xBF, KindReserved}, {0xC0, KindOEMTimestamped}, {0xDF, KindOEMTimestamped},
		{0xE0, KindOEMNonTimestamped}, {0xFF, KindOEMNonTimestamped},
	} {
		require.Equal(t, tc.want, KindOf(tc.typ), "type 0x%02x", tc.typ)
	}
}

func TestValidate(t *testing.T) {
	with := func(r Record, off int, v byte) Record { r[off] = v; return r }
	for _, tc := range []struct {
		name    string
		r       Record
		wantErr string
	}{
		{"system event", tempEvent, ""},
		{"deassertion", memDeassert, ""},
		{"IPMI 1.0 EvM revision", with(tempEvent, 9, 0x03), ""},
		{"OEM event type", with(tempEvent, 12, 0x70), ""},
		{"sensor-specific", with(tempEvent, 12, 0x6f), ""},
		{"unspecified event type", with(tempEvent, 12, 0x00), ""},
		{"OEM timestamped", oemStamped, ""},
		{"OEM non-timestamped", oemPlain, ""},
		{"widest manufacturer ID", with(oemStamped, 9, 0x0f), ""},
		{"reserved type 0", with(tempEvent, 2, 0x00), "record type 0x00 (byte 2) is reserved"},
		{"reserved type 0xbf", with(tempEvent, 2, 0xbf), "record type 0xbf (byte 2) is reserved"},
		{"EvM revision", with(tempEvent, 9, 0x05), "EvM revision 0x05 (byte 9)"},
		{"reserved event type low", with(tempEvent, 12, 0x0d), "event/reading type 0x0d (byte 12, bits 6:0) is reserved"},
		{"reserved event type high, deasserted", with(tempEvent, 12, 0xee), "event/reading type 0x6e (byte 12, bits 6:0) is reserved"},
		{"manufacturer ID over 20 bits", with(oemStamped, 9, 0x10), "manufacturer ID 0x100157 (bytes 7–9, LS byte first) is wider than 20 bits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.r.Validate()
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrFormat)
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
}

func TestSystemEventFields(t *testing.T) {
	e, ok := memDeassert.SystemEvent()
	require.True(t, ok)
	require.Equal(t, SystemEvent{GeneratorID: 0x22, EvMRev: 4, SensorType: 0x0c, SensorNumber: 0x70,
		EventDirType: 0xef, EventData: [3]byte{0xa0, 0xff, 0x03}}, e)
	require.True(t, e.Deassertion())
	require.Equal(t, byte(0x6f), e.EventType())
	require.Equal(t, memDeassert, NewSystemEvent(2, 0x6955b910, e), "NewSystemEvent inverts SystemEvent")

	_, ok = oemStamped.SystemEvent()
	require.False(t, ok)
	id, ok := oemStamped.ManufacturerID()
	require.True(t, ok)
	require.Equal(t, uint32(343), id)
	require.Equal(t, []byte{0xde, 0xad, 0xbe, 0xef, 0x00, 0x01}, oemStamped.OEMData())
	require.Len(t, oemPlain.OEMData(), 13)
	require.Nil(t, tempEvent.OEMData())
	_, ok = tempEvent.ManufacturerID()
	require.False(t, ok)
}

func TestTimestamps(t *testing.T) {
	with := func(r Record, ts uint32) Record { r.SetTimestamp(ts); return r }
	for _, tc := range []struct {
		name   string
		r      Record
		wantTS bool
		want   time.Time
	}{
		{"wall clock", tempEvent, true, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"OEM timestamped", oemStamped, true, time.Date(2026, 1, 1, 0, 0, 32, 0, time.UTC)},
		{"pre-init", with(tempEvent, PreInitTimestampMax), false, time.Time{}},
		{"first wall-clock value", with(tempEvent, PreInitTimestampMax+1), true, time.Unix(PreInitTimestampMax+1, 0).UTC()},
		{"unspecified", with(tempEvent, UnspecifiedTimestamp), false, time.Time{}},
		{"no timestamp", oemPlain, false, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.r.Time()
			require.Equal(t, tc.wantTS, ok)
			require.Equal(t, tc.want, got)
		})
	}
	r := oemPlain
	require.False(t, r.SetTimestamp(1), "a non-timestamped record has no timestamp to set")
	require.Equal(t, oemPlain, r)
	_, ok := r.Timestamp()
	require.False(t, ok)
}

func TestNextID(t *testing.T) {
	for _, tc := range []struct{ id, want uint16 }{
		{0, 1}, {1, 2}, {0x1234, 0x1235}, {0xFFFD, 0xFFFE}, {0xFFFE, 1}, {0xFFFF, 1},
	} {
		require.Equal(t, tc.want, NextID(tc.id), "after 0x%04x", tc.id)
	}
	r := tempEvent
	r.SetID(0xBEEF)
	require.Equal(t, uint16(0xBEEF), r.ID())
	require.Equal(t, tempEvent[2:], r[2:], "SetID changes only the ID")
}

func TestString(t *testing.T) {
	require.Equal(t, "id 0x0001 type 0x02 (system event) at 2026-01-01T00:00:00Z gen 0x0020 evm 0x04 sensor type 0x01 #0x30 event type 0x01 assert data 57 52 50",
		tempEvent.String())
	require.Equal(t, "id 0x0003 type 0xc1 (OEM timestamped) at 2026-01-01T00:00:32Z manufacturer 343 data de ad be ef 00 01", oemStamped.String())
	require.Equal(t, "id 0x0004 type 0xe0 (OEM non-timestamped) data 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d", oemPlain.String())
	pre := tempEvent
	pre.SetTimestamp(0x10)
	require.Contains(t, pre.String(), "at 0x00000010 gen")
}
