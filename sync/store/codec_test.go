package store

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestCodecRoundTrip checks every field's encoding: its width, byte order
// and position, and that decoding the same fields consumes the body
// exactly.
func TestCodecRoundTrip(t *testing.T) {
	when := time.Date(2026, 12, 7, 5, 0, 0, 123, time.UTC)
	var g Digest
	for i := range g {
		g[i] = byte(i + 1)
	}
	var e enc
	e.u8(0xA1)
	e.u16(0xB2B1)
	e.u32(0xC4C3C2C1)
	e.u64(0xD8D7D6D5D4D3D2D1)
	e.i64(-2)
	e.time(when)
	e.time(time.Time{})
	e.str("abc")
	e.str("")
	e.raw(g[:])
	e.u8(1)
	e.u8(0)
	require.Equal(t, []byte{0xA1, 0xB1, 0xB2, 0xC1, 0xC2, 0xC3, 0xC4, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8}, e.buf[:15])
	require.Equal(t, []byte{0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, e.buf[15:23])
	require.Equal(t, []byte{0, 0, 0, 0, 0, 0, 0, 0}, e.buf[31:39], "a zero time is 0")
	require.Equal(t, []byte{3, 'a', 'b', 'c', 0}, e.buf[39:44])
	require.Len(t, e.buf, 44+DigestSize+2)

	d := dec{buf: e.buf}
	require.Equal(t, uint8(0xA1), d.u8())
	require.Equal(t, uint16(0xB2B1), d.u16())
	require.Equal(t, uint32(0xC4C3C2C1), d.u32())
	require.Equal(t, uint64(0xD8D7D6D5D4D3D2D1), d.u64())
	require.Equal(t, int64(-2), d.i64())
	require.Equal(t, when, d.time())
	require.True(t, d.time().IsZero())
	require.Equal(t, "abc", d.str())
	require.Equal(t, "", d.str())
	require.Equal(t, g, d.digest())
	require.True(t, d.flag("yes"))
	require.False(t, d.flag("no"))
	require.Equal(t, len(e.buf), d.pos)
	require.NoError(t, d.end())
}

// TestEncStrTruncates checks str's 255-byte limit.
func TestEncStrTruncates(t *testing.T) {
	for _, n := range []int{254, 255, 256, 300} {
		var e enc
		e.str(strings.Repeat("x", n))
		want := min(n, 255)
		require.Equal(t, byte(want), e.buf[0], n)
		require.Len(t, e.buf, 1+want, n)
		d := dec{buf: e.buf}
		require.Len(t, d.str(), want, n)
		require.NoError(t, d.end(), n)
	}
}

// TestDecBounds checks take's bounds, end's three verdicts and that fail
// keeps the first reason.
func TestDecBounds(t *testing.T) {
	tests := []struct {
		name    string
		buf     []byte
		read    func(d *dec)
		wantPos int
		wantErr string
	}{
		{"exact u32", []byte{1, 2, 3, 4}, func(d *dec) { require.Equal(t, uint32(0x04030201), d.u32()) }, 4, ""},
		{"u32 one short", []byte{1, 2, 3}, func(d *dec) { require.Zero(t, d.u32()) }, 0, "body too short"},
		{"u16 one short", []byte{1}, func(d *dec) { require.Zero(t, d.u16()) }, 0, "body too short"},
		{"u64 one short", make([]byte, 7), func(d *dec) { require.Zero(t, d.u64()) }, 0, "body too short"},
		{"u8 of nothing", nil, func(d *dec) { require.Zero(t, d.u8()) }, 0, "body too short"},
		{"u8 then short u16", []byte{9, 1}, func(d *dec) { require.Equal(t, uint8(9), d.u8()); require.Zero(t, d.u16()) }, 1, "body too short"},
		{"reads stop after a short one", []byte{1, 2, 3}, func(d *dec) {
			require.Zero(t, d.u32())
			require.Zero(t, d.u8(), "a bad body yields zeros")
		}, 0, "body too short"},
		{"one byte after", []byte{1, 2, 3}, func(d *dec) { d.u16() }, 2, "1 bytes after the last field"},
		{"five bytes after", make([]byte, 9), func(d *dec) { d.u32() }, 4, "5 bytes after the last field"},
		{"string longer than the body", []byte{3, 'a', 'b'}, func(d *dec) { require.Equal(t, "", d.str()) }, 1, "body too short"},
		{"string exactly the body", []byte{2, 'a', 'b'}, func(d *dec) { require.Equal(t, "ab", d.str()) }, 3, ""},
		{"digest one short", make([]byte, DigestSize-1), func(d *dec) { require.Equal(t, Digest{}, d.digest()) }, 0, "body too short"},
		{"flag 2", []byte{2}, func(d *dec) { require.False(t, d.flag("the thing")) }, 1, "the thing is 2, want 0 or 1"},
		{"flag 255", []byte{255}, func(d *dec) { require.False(t, d.flag("x")) }, 1, "x is 255, want 0 or 1"},
		{"first failure wins", []byte{7, 8}, func(d *dec) {
			d.flag("first")
			d.flag("second")
			d.fail("third")
		}, 1, "first is 7, want 0 or 1"}, // a bad body reads no further
		{"failure, then short", []byte{5}, func(d *dec) { d.flag("f"); d.u32() }, 1, "f is 5, want 0 or 1"},
		{"negative take", []byte{1}, func(d *dec) { require.Nil(t, d.take(-1)) }, 0, "body too short"},
		{"take zero at the end", []byte{1}, func(d *dec) { d.u8(); require.NotNil(t, d.take(0)) }, 1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := dec{buf: tc.buf}
			tc.read(&d)
			require.Equal(t, tc.wantPos, d.pos)
			err := d.end()
			if tc.wantErr == "" {
				require.NoError(t, err)
				require.False(t, d.bad)
				return
			}
			require.EqualError(t, err, tc.wantErr)
			if tc.wantErr == "body too short" {
				require.True(t, errors.Is(err, errShort))
			}
		})
	}
}

// TestKindName checks every kind's name and the fallback.
func TestKindName(t *testing.T) {
	tests := map[uint8]string{
		kindSuperblock: "superblock", kindCkptBegin: "checkpoint-begin", kindCkptChunks: "checkpoint-chunks",
		kindCkptEnd: "checkpoint-end", kindFormatIntent: "format-intent", kindIntent: "intent",
		kindIntentChunk: "intent-chunks", kindCommit: "commit", kindPurged: "purged", kindStaged: "config-staged",
		kindRole: "role", kindConfigCommit: "config-commit", kindCkptDeltas: "checkpoint-deltas",
		kindIntentDeltas: "intent-deltas", kindIntentDeltas5: "intent-deltas-5", kindIntentRuns: "intent-runs",
		0x00: "kind(0x0)", 0x7f: "kind(0x7f)", 0xff: "kind(0xff)",
	}
	for k, want := range tests {
		require.Equal(t, want, kindName(k), "%#x", k)
	}
}

// TestBlockSetOrAndRanges checks or and addRange's word-boundary cases.
func TestBlockSetOrAndRanges(t *testing.T) {
	tests := []struct {
		lo, hi uint32
		want   []uint32
	}{
		{5, 5, []uint32{}},
		{6, 5, []uint32{}},
		{63, 65, []uint32{63, 64}},
		{64, 128, nil}, // 64..127
		{0, 1, []uint32{0}},
		{127, 129, []uint32{127, 128}},
	}
	for _, tc := range tests {
		s := newBlockSet(200)
		s.addRange(tc.lo, tc.hi)
		want := tc.want
		if want == nil {
			for b := tc.lo; b < tc.hi; b++ {
				want = append(want, b)
			}
		}
		require.Equal(t, want, s.members(), "%d..%d", tc.lo, tc.hi)
	}
	require.Len(t, newBlockSet(64), 1)
	require.Len(t, newBlockSet(65), 2)
	require.Len(t, newBlockSet(0), 0)
	a, b := newBlockSet(130), newBlockSet(130)
	a.add(1)
	a.add(129)
	b.add(64)
	b.add(129)
	a.or(b)
	require.Equal(t, []uint32{1, 64, 129}, a.members())
	require.Equal(t, []uint32{64, 129}, b.members(), "or leaves its argument alone")
}
