package info

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/stretchr/testify/require"
)

// tableMatches reports the first entry of t's change table that does not
// hold the check of the record's payload bytes in its block (-1: all do).
func tableMatches(t *testing.T, r *Region, ty Type) int {
	t.Helper()
	rec, err := r.Read(ty)
	require.NoError(t, err)
	off, entries, ok := r.ChangeTable(ty)
	require.True(t, ok)
	tb := make([]byte, entries*ChangeEntrySize)
	_, err = r.Flash().ReadAt(tb, off)
	require.NoError(t, err)
	unit := r.ChangeUnit()
	n := int((int64(RecordHeaderSize+len(rec.Payload)) + unit - 1) / unit)
	for j := range n {
		lo := max(int64(j)*unit-RecordHeaderSize, 0)
		hi := min(int64(j+1)*unit-RecordHeaderSize, int64(len(rec.Payload)))
		want := uint64(crc32.Checksum(rec.Payload[lo:hi], castagnoli))<<32 | uint64(crc32.ChecksumIEEE(rec.Payload[lo:hi]))
		if ChangeEntry(tb, j) != want {
			return j
		}
	}
	return -1
}

func TestChangeTableFollowsEveryWrite(t *testing.T) {
	const size = 1 << 20
	f := newNOR(t, size)
	r := formatted(t, f, 0, size)
	for _, ty := range All() {
		require.Equal(t, -1, tableMatches(t, r, ty), "%v after format", ty)
	}
	eb := f.Geometry().EraseSize
	p := make([]byte, 10*eb)
	for i := range p {
		p[i] = byte(i * 13)
	}
	steps := []func([]byte) []byte{
		func(p []byte) []byte { return p },
		func(p []byte) []byte { p[5*eb+7] ^= 0xFF; return p },
		func(p []byte) []byte { return append(p, bytes.Repeat([]byte{7}, int(3*eb+5))...) },
		func(p []byte) []byte { return p[:2*eb+1] },
		func(p []byte) []byte { return p[:0] },
	}
	for i, step := range steps {
		p = step(bytes.Clone(p))
		require.NoError(t, r.Write(EventLog, p), "step %d", i)
		require.Equal(t, -1, tableMatches(t, r, EventLog), "step %d", i)
	}
	// A wrong state fails the check: one entry changed behind the writer.
	toff, _, _ := r.ChangeTable(EventLog)
	f.Poke(toff, []byte{0xAB})
	require.Equal(t, 0, tableMatches(t, r, EventLog))
	// An unchanged payload written again repairs a stale table, without
	// touching the record.
	rec, err := r.Read(EventLog)
	require.NoError(t, err)
	require.NoError(t, r.Write(EventLog, rec.Payload))
	require.Equal(t, -1, tableMatches(t, r, EventLog))
	again, err := r.Read(EventLog)
	require.NoError(t, err)
	require.Equal(t, rec.Seq, again.Seq)
}

func TestBlockCheckLayout(t *testing.T) {
	b := []byte("change table entry")
	e := make([]byte, ChangeEntrySize)
	binary.LittleEndian.PutUint64(e, BlockCheck(b))
	require.Equal(t, crc32.ChecksumIEEE(b), binary.LittleEndian.Uint32(e[0:]), "bytes 0..3: CRC-32 (IEEE)")
	require.Equal(t, Checksum(b), binary.LittleEndian.Uint32(e[4:]), "bytes 4..7: CRC-32C")
	require.Zero(t, BlockCheck(nil), "no bytes: check 0")
}

// A region of the earlier version (no change tables) opens, reads and
// takes writes as before; its writers never add a table or change its
// version behind the user's back.
func TestPlainRegionStaysPlain(t *testing.T) {
	const size = 1 << 20
	f := newNOR(t, size)
	r := formatted(t, f, 0, size)
	var err error
	h := r.Header()
	h.Version = RegionVersionPlain
	for i := range h.Extents {
		h.Extents[i].Table = 0
	}
	require.NoError(t, f.Erase(0, f.Geometry().EraseSize))
	_, err = f.WriteAt(h.Encode(), 0)
	require.NoError(t, err)
	plain, err := OpenRegion(f, 0, size)
	require.NoError(t, err)
	require.Equal(t, uint16(RegionVersionPlain), plain.Header().Version)
	_, _, ok := plain.ChangeTable(EventLog)
	require.False(t, ok)

	toff, entries, _ := r.ChangeTable(EventLog)
	before := make([]byte, entries*ChangeEntrySize)
	_, err = f.ReadAt(before, toff)
	require.NoError(t, err)
	hb := make([]byte, RegionHeaderSize)
	_, err = f.ReadAt(hb, 0)
	require.NoError(t, err)

	p := bytes.Repeat([]byte{0x5A}, 9000)
	require.NoError(t, plain.Write(EventLog, p))
	rec, err := plain.Read(EventLog)
	require.NoError(t, err)
	require.Equal(t, p, rec.Payload)

	after := make([]byte, len(before))
	_, err = f.ReadAt(after, toff)
	require.NoError(t, err)
	require.Equal(t, before, after, "a plain region's writer writes no table")
	hb2 := make([]byte, RegionHeaderSize)
	_, err = f.ReadAt(hb2, 0)
	require.NoError(t, err)
	require.Equal(t, hb, hb2, "the region header is not upgraded")
}
