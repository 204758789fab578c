package info

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDecodeTableRejects checks each consistency rule of DecodeTable on a
// payload that breaks only that rule, with the exact message (its numbers
// say which bound was applied), and that the payloads one step inside
// each bound decode.
func TestDecodeTableRejects(t *testing.T) {
	le := binary.LittleEndian
	// sel is an event log with 3 slots, 2 entries, next slot 2.
	sel := func() []byte {
		tb := NewTable(EventLog, 3)
		tb.Add(make([]byte, SELEntrySize))
		tb.Add(make([]byte, SELEntrySize))
		return tb.Encode()
	}
	tests := []struct {
		name string
		typ  Type
		p    func() []byte
		want string // "" when the payload decodes
	}{
		{"invalid type", Type(0), sel, "malformed payload: unknown information type 0"},
		{"type past the last", Type(NumTypes + 1), sel, "malformed payload: unknown information type 7"},
		{"23 bytes", EventLog, func() []byte { return sel()[:PayloadHeaderSize-1] }, "malformed payload: 23 bytes, shorter than its 24-byte header"},
		{"header only", EventLog, func() []byte { return sel()[:PayloadHeaderSize] }, "malformed payload: 24 bytes, header implies 72"},
		{"other type", Fan, sel, "malformed payload: payload says type event-log, record is fan"},
		{"version 2", EventLog, func() []byte { p := sel(); p[1] = 2; return p }, "malformed payload: payload format version 2, want 1"},
		{"version 0", EventLog, func() []byte { p := sel(); p[1] = 0; return p }, "malformed payload: payload format version 0, want 1"},
		{"fixed size", EventLog, func() []byte { p := sel(); le.PutUint16(p[2:], SELInfoSize+1); return p },
			"malformed payload: event-log payload has fixed section 17 and entry size 16, want 16 and 16"},
		{"entry size", EventLog, func() []byte { p := sel(); le.PutUint16(p[4:], SELEntrySize-1); return p },
			"malformed payload: event-log payload has fixed section 16 and entry size 15, want 16 and 16"},
		{"reserved", EventLog, func() []byte { p := sel(); le.PutUint16(p[6:], 0x10); return p }, "malformed payload: reserved field 0x10, want 0"},
		{"ringless with slots", Asset, func() []byte { p := Default(Asset); le.PutUint32(p[8:], 1); return p },
			"malformed payload: asset payload has no ring but says 1 slots, 0 entries"},
		{"ringless with count", Asset, func() []byte { p := Default(Asset); le.PutUint32(p[12:], 1); return p },
			"malformed payload: asset payload has no ring but says 0 slots, 1 entries"},
		{"ringless with next", Asset, func() []byte { p := Default(Asset); le.PutUint32(p[16:], 1); return p },
			"malformed payload: asset payload has no ring but says 0 slots, 0 entries"},
		{"count over slots", EventLog, func() []byte { p := sel(); le.PutUint32(p[8:], 1); return p }, "malformed payload: 2 entries in 1 slots"},
		{"count equals slots", EventLog, func() []byte { p := sel(); le.PutUint32(p[8:], 2); le.PutUint32(p[16:], 1); return p }, ""},
		{"next past count", EventLog, func() []byte { p := sel(); le.PutUint32(p[16:], 3); return p }, "malformed payload: next slot 3 with 2 of 3 slots used"},
		{"next before count", EventLog, func() []byte { p := sel(); le.PutUint32(p[16:], 1); return p }, "malformed payload: next slot 1 with 2 of 3 slots used"},
		{"full, next at slots", EventLog, func() []byte { p := sel(); le.PutUint32(p[8:], 2); le.PutUint32(p[16:], 2); return p },
			"malformed payload: next slot 2 with 2 of 2 slots used"},
		{"full, next last slot", EventLog, func() []byte { p := sel(); le.PutUint32(p[8:], 2); le.PutUint32(p[16:], 1); return p }, ""},
		{"one byte short", EventLog, func() []byte { p := sel(); return p[:len(p)-1] }, "malformed payload: 71 bytes, header implies 72"},
		{"one byte long", EventLog, func() []byte { return append(sel(), 0) }, "malformed payload: 73 bytes, header implies 72"},
		{"exact", EventLog, sel, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p()
			tb, err := DecodeTable(tc.typ, p)
			if tc.want != "" {
				require.EqualError(t, err, tc.want)
				require.ErrorIs(t, err, errPayload)
				require.Nil(t, tb)
				return
			}
			require.NoError(t, err)
			require.Len(t, tb.Fixed, SELInfoSize)
			require.Len(t, tb.Ring, int(tb.Count)*SELEntrySize)
			require.Equal(t, p[PayloadHeaderSize+SELInfoSize:], tb.Ring)
		})
	}
}

// TestDecodeTableHeaderFields checks each header field is read from its
// own offset.
func TestDecodeTableHeaderFields(t *testing.T) {
	tb := NewTable(FaultLog, 5)
	tb.Fixed[0], tb.Fixed[FaultInfoSize-1] = 0xA1, 0xA2
	for i := 1; i <= 7; i++ {
		e := make([]byte, FaultEntrySize)
		e[0] = byte(i)
		tb.Add(e)
	}
	tb.Updated = 0x01020304
	d, err := DecodeTable(FaultLog, tb.Encode())
	require.NoError(t, err)
	require.Equal(t, FaultLog, d.Type)
	require.Equal(t, uint32(5), d.Slots)
	require.Equal(t, uint32(5), d.Count)
	require.Equal(t, uint32(2), d.Next)
	require.Equal(t, uint32(0x01020304), d.Updated)
	require.Equal(t, FaultEntrySize, d.EntrySize)
	require.Equal(t, []byte{0xA1, 0xA2}, []byte{d.Fixed[0], d.Fixed[FaultInfoSize-1]})
	require.Len(t, d.Ring, 5*FaultEntrySize)
	require.Equal(t, []byte{6, 7, 3, 4, 5}, []byte{d.Ring[0], d.Ring[FaultEntrySize], d.Ring[2*FaultEntrySize], d.Ring[3*FaultEntrySize], d.Ring[4*FaultEntrySize]})
	require.Equal(t, byte(7), d.Newest()[0])
}

func TestValidNext(t *testing.T) {
	tests := []struct {
		slots, count, next uint32
		want               bool
	}{
		{0, 0, 0, true},
		{0, 0, 1, false},
		{3, 0, 0, true},
		{3, 0, 1, false},
		{3, 2, 2, true},
		{3, 2, 1, false},
		{3, 2, 3, false},
		{3, 3, 0, true},
		{3, 3, 2, true},
		{3, 3, 3, false},
		{3, 4, 2, true}, // count past slots is DecodeTable's other check
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, validNext(tc.slots, tc.count, tc.next), "%+v", tc)
	}
}

// TestTableAddAndNewestAtTheWrap checks Add's and Newest's slot arithmetic
// on the entries around the wrap: the ring fills, Next returns to 0, and
// the oldest entry is overwritten in place.
func TestTableAddAndNewestAtTheWrap(t *testing.T) {
	entry := func(b byte) []byte { e := make([]byte, SELEntrySize); e[0], e[SELEntrySize-1] = b, b; return e }
	tb := NewTable(EventLog, 3)
	steps := []struct {
		count, next uint32
		ring        []byte
	}{
		{1, 1, []byte{1}},
		{2, 2, []byte{1, 2}},
		{3, 0, []byte{1, 2, 3}},
		{3, 1, []byte{4, 2, 3}},
		{3, 2, []byte{4, 5, 3}},
		{3, 0, []byte{4, 5, 6}},
		{3, 1, []byte{7, 5, 6}},
	}
	for i, s := range steps {
		b := byte(i + 1)
		tb.Add(entry(b))
		require.Equal(t, s.count, tb.Count, "after %d", b)
		require.Equal(t, s.next, tb.Next, "after %d", b)
		require.Len(t, tb.Ring, int(s.count)*SELEntrySize)
		for j, want := range s.ring {
			require.Equal(t, entry(want), tb.Ring[j*SELEntrySize:(j+1)*SELEntrySize], "after %d slot %d", b, j)
		}
		require.Equal(t, entry(b), tb.Newest(), "after %d", b)
	}
	ringless := NewTable(Asset, 4)
	require.Zero(t, ringless.Slots)
	ringless.Add(make([]byte, 1))
	require.Zero(t, ringless.Count)
	require.Nil(t, ringless.Newest())
	zero := NewTable(EventLog, 0)
	zero.Add(entry(1))
	require.Zero(t, zero.Count)
	require.Empty(t, zero.Ring)
}
