package store

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRecordFraming checks encodeRecord's layout and padding, recordSize,
// and parseRecord's verdicts on the bounds: a body that just fits the
// buffer, one byte over, a short buffer, an erased header, a bad magic or
// CRC, reserved header bytes, and a size clipped to the buffer.
func TestRecordFraming(t *testing.T) {
	for _, tc := range []struct {
		n    int
		slot int64
		size int64
	}{
		{0, 256, 256},
		{228, 256, 256}, // 24 + 228 + 4 = 256
		{229, 256, 512},
		{100, 1, 128},
		{4, 32, 32},
		{5, 32, 64},
	} {
		body := bytes.Repeat([]byte{0xA5}, tc.n)
		b := encodeRecord(kindCommit, 77, body, tc.slot)
		require.Len(t, b, int(tc.size), "%+v", tc)
		require.Equal(t, tc.size, recordSize(tc.n, tc.slot), "%+v", tc)
		require.Equal(t, recordMagic, le.Uint32(b[0:]))
		require.Equal(t, []byte{kindCommit, 0, 0, 0}, b[4:8])
		require.Equal(t, uint32(tc.n), le.Uint32(b[8:]))
		require.Equal(t, uint64(77), le.Uint64(b[12:]))
		require.Equal(t, crc(b[:20]), le.Uint32(b[20:]))
		require.Equal(t, body, b[recordHeader:recordHeader+tc.n])
		require.Equal(t, crc(b[:recordHeader+tc.n]), le.Uint32(b[recordHeader+tc.n:]))
		require.True(t, bytes.Equal(bytes.Repeat([]byte{0xFF}, int(tc.size)-recordOverhead-tc.n), b[recordOverhead+tc.n:]), "%+v: padded with 0xFF", tc)

		// Followed by more of the block: the size is the record's own.
		r, st := parseRecord(append(bytes.Clone(b), bytes.Repeat([]byte{0xFF}, 512)...), tc.slot, false)
		require.Equal(t, parseOK, st, "%+v", tc)
		require.Equal(t, record{kind: kindCommit, seq: 77, body: body, size: tc.size}, r, "%+v", tc)
	}

	rec := encodeRecord(kindIntent, 9, []byte{1, 2, 3, 4, 5}, 32) // 33 bytes framed, 64 padded
	tests := []struct {
		name string
		b    []byte
		want int
		size int64
	}{
		{"exact framing, no padding", rec[:recordOverhead+5], parseOK, recordOverhead + 5},
		{"framing one byte short", rec[:recordOverhead+4], parseBad, 0},
		{"header only", rec[:recordHeader], parseBad, 0},
		{"shorter than a header", rec[:recordHeader-1], parseBad, 0},
		{"padded", rec, parseOK, 64},
		{"erased", bytes.Repeat([]byte{0xFF}, 64), parseErased, 0},
		{"erased, header only", bytes.Repeat([]byte{0xFF}, recordHeader), parseErased, 0},
		{"erased header, then bytes", append(bytes.Repeat([]byte{0xFF}, recordHeader), 0), parseErased, 0},
		{"bad magic", edit(rec, func(b []byte) { b[0] ^= 1 }), parseBad, 0},
		{"bad header crc", edit(rec, func(b []byte) { b[20] ^= 1 }), parseBad, 0},
		{"bad record crc", edit(rec, func(b []byte) { b[recordHeader+5] ^= 1 }), parseBad, 0},
		{"bad body", edit(rec, func(b []byte) { b[recordHeader] ^= 1 }), parseBad, 0},
	}
	for _, tc := range tests {
		r, st := parseRecord(tc.b, 32, false)
		require.Equal(t, tc.want, st, tc.name)
		if st == parseOK {
			require.Equal(t, tc.size, r.size, tc.name)
			require.Equal(t, []byte{1, 2, 3, 4, 5}, r.body, tc.name)
			require.Equal(t, uint64(9), r.seq, tc.name)
			require.Equal(t, kindIntent, r.kind, tc.name)
			require.False(t, r.reserved, tc.name)
		} else {
			require.Equal(t, record{}, r, tc.name)
		}
	}
	// trust skips both CRCs, not the magic or the length.
	r, st := parseRecord(edit(rec, func(b []byte) { b[20] ^= 1; b[recordHeader+5] ^= 1 }), 32, true)
	require.Equal(t, parseOK, st)
	require.Equal(t, uint64(9), r.seq)
	_, st = parseRecord(edit(rec, func(b []byte) { b[0] ^= 1 }), 32, true)
	require.Equal(t, parseBad, st)
	_, st = parseRecord(rec[:recordOverhead+4], 32, true)
	require.Equal(t, parseBad, st)

	// Each reserved header byte, its CRC made good, marks the record.
	for i := 5; i <= 7; i++ {
		b := edit(rec, func(b []byte) {
			b[i] = 1
			le.PutUint32(b[20:], crc(b[:20]))
			le.PutUint32(b[recordHeader+5:], crc(b[:recordHeader+5]))
		})
		r, st := parseRecord(b, 32, false)
		require.Equal(t, parseOK, st, i)
		require.True(t, r.reserved, i)
	}
}

// edit returns a copy of b changed by f.
func edit(b []byte, f func([]byte)) []byte {
	c := bytes.Clone(b)
	f(c)
	return c
}
