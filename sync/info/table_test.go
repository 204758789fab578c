package info

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTableResize(t *testing.T) {
	tb := NewTable(EventLog, 4)
	for i := 1; i <= 6; i++ { // wraps: slots hold 5, 6, 3, 4
		tb.Add(bytes.Repeat([]byte{byte(i)}, SELEntrySize))
	}
	require.Equal(t, uint32(4), tb.Count)
	require.Equal(t, uint32(2), tb.Next)
	require.Equal(t, byte(6), tb.Newest()[0])
	order := func(x *Table) []byte {
		var out []byte
		for i := 0; i < int(x.Count); i++ {
			out = append(out, x.Ring[i*SELEntrySize])
		}
		return out
	}
	require.Equal(t, []byte{5, 6, 3, 4}, order(tb))
	grown := tb.Resized(6)
	require.Equal(t, []byte{3, 4, 5, 6}, order(grown), "oldest first after growing")
	require.Equal(t, uint32(4), grown.Next)
	grown.Add(bytes.Repeat([]byte{7}, SELEntrySize))
	require.Equal(t, []byte{3, 4, 5, 6, 7}, order(grown))
	require.Equal(t, []byte{5, 6, 3, 4}, order(tb), "Resized leaves tb alone")
	shrunk := tb.Resized(2)
	require.Equal(t, []byte{5, 6}, order(shrunk), "the newest entries survive")
	require.Equal(t, uint32(0), shrunk.Next)
	_, err := DecodeTable(EventLog, shrunk.Encode())
	require.NoError(t, err)
	require.Same(t, tb, tb.Resized(4))
	require.Nil(t, NewTable(EventLog, 4).Newest())
}

func TestDecodeTableAliases(t *testing.T) {
	tb := NewTable(FaultLog, 2)
	tb.Add(bytes.Repeat([]byte{1}, FaultEntrySize))
	p := tb.Encode()
	d, err := DecodeTable(FaultLog, p)
	require.NoError(t, err)
	d.Fixed[0] = 0xAA
	d.Ring[0] = 0xBB
	fixed, _ := PayloadSizes(FaultLog)
	require.Equal(t, byte(0xAA), p[PayloadHeaderSize], "Fixed aliases the payload")
	require.Equal(t, byte(0xBB), p[PayloadHeaderSize+fixed], "Ring aliases the payload")
	require.NotEqual(t, byte(0xAA), tb.Fixed[0], "Encode's bytes do not alias the table")
}

func TestRingSlots(t *testing.T) {
	fixed, entry := PayloadSizes(EventLog)
	tests := []struct {
		typ      Type
		capacity int
		want     uint32
	}{
		{EventLog, PayloadHeaderSize + fixed + 10*entry, 10},
		{EventLog, PayloadHeaderSize + fixed + 10*entry + entry - 1, 10},
		{EventLog, PayloadHeaderSize + fixed - 1, 0},
		{EventLog, 0, 0},
		{Asset, 1 << 20, 0}, // no ring
		{Type(0), 1 << 20, 0},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, RingSlots(tc.typ, tc.capacity), "%v %d", tc.typ, tc.capacity)
	}
}

func TestDescribePayload(t *testing.T) {
	for _, ty := range All() {
		d, err := DescribePayload(ty, Default(ty))
		require.NoError(t, err)
		fixed, entry := PayloadSizes(ty)
		require.Equal(t, PayloadInfo{Type: ty, FixedSize: fixed, EntrySize: entry, Updated: time.Unix(0, 0).UTC()}, d)
	}
	tb := NewTable(Node, 5)
	tb.Add(make([]byte, SampleSize))
	tb.Updated = 1767225600
	d, err := DescribePayload(Node, tb.Encode())
	require.NoError(t, err)
	require.Equal(t, PayloadInfo{Type: Node, FixedSize: NumNodes * NodeRecordSize, EntrySize: SampleSize, Slots: 5, Entries: 1,
		Updated: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, d)
	_, err = DescribePayload(Power, Default(Fan))
	require.ErrorContains(t, err, "power payload: malformed payload: payload says type fan")
	_, err = DescribePayload(0, nil)
	require.ErrorContains(t, err, "unknown information type 0")
	_, err = DescribePayload(EventLog, Default(EventLog)[:30])
	require.ErrorContains(t, err, "30 bytes, header implies 40")
}
