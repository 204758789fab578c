package info

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/stretchr/testify/require"
)

func TestPlanRegion(t *testing.T) {
	tests := []struct {
		size, erase int64
		wantErr     string
	}{
		{size: 60 << 10, erase: 4 << 10},
		{size: 256 << 10, erase: 4 << 10},
		{size: 1 << 20, erase: 4 << 10},
		{size: 8 << 20, erase: 4 << 10},
		{size: 32 << 20, erase: 4 << 10},
		{size: 1 << 20, erase: 64 << 10},
		{size: 8 << 20, erase: 128 << 10},
		{size: 56 << 10, erase: 4 << 10, wantErr: "region of 56KiB (14 erase blocks of 4KiB) is too small: need at least 60KiB"},
		{size: 768 << 10, erase: 64 << 10, wantErr: "need at least 832KiB"},
		{size: 10000, erase: 4 << 10, wantErr: "not a positive multiple"},
		{size: 0, erase: 4 << 10, wantErr: "not a positive multiple"},
		{size: 1 << 20, erase: 3000, wantErr: "not a power of two"},
		{size: 1 << 20, erase: 0, wantErr: "not a power of two"},
	}
	for _, tc := range tests {
		name := fmt.Sprintf("%s/%s", hal.FormatSize(tc.size), hal.FormatSize(tc.erase))
		h, err := PlanRegion(tc.size, tc.erase)
		if tc.wantErr != "" {
			require.ErrorContains(t, err, tc.wantErr, name)
			continue
		}
		require.NoError(t, err, name)
		require.Len(t, h.Extents, NumTypes)
		next := h.Extents[0].Off
		table := tc.erase
		var caps [NumTypes + 1]int64
		for i, e := range h.Extents {
			require.Equal(t, All()[i], e.Type, name)
			require.Equal(t, table, e.Table, "%s: change tables follow the header block back to back", name)
			table += tableBlocks(e.Capacity, tc.erase) * tc.erase
			require.Equal(t, next, e.Off, "%s: extents follow the change tables back to back", name)
			require.Zero(t, e.Off%tc.erase, name)
			require.Zero(t, e.Capacity%tc.erase, name)
			require.GreaterOrEqual(t, e.Capacity, int64(RecordHeaderSize+minPayload(e.Type)), name)
			next = e.Off + e.Capacity
			caps[e.Type] = e.Capacity
		}
		require.Equal(t, tc.size, next, "%s: the extents use the whole region", name)
		require.LessOrEqual(t, table, h.Extents[0].Off, "%s: the tables end before the first extent", name)
		require.Less(t, h.Extents[0].Off-table, tc.erase*2, "%s: at most one spare block after the tables", name)
		if tc.size/tc.erase >= 64 {
			require.Greater(t, caps[EventLog], caps[FaultLog], name)
			require.Greater(t, caps[FaultLog], caps[Power], name)
		}
		// The plan decodes back to itself.
		back, err := DecodeRegionHeader(h.Encode())
		require.NoError(t, err, name)
		require.Equal(t, h, back, name)
	}
	// The standard 8 MiB layout, as doc.go states it.
	h, err := PlanRegion(8<<20, 4<<10)
	require.NoError(t, err)
	require.Equal(t, []ExtentInfo{
		{Power, 0x9000, 1052 << 10, 0x1000}, {Fan, 0x110000, 1052 << 10, 0x2000}, {Node, 0x217000, 612 << 10, 0x3000},
		{EventLog, 0x2b0000, 3156 << 10, 0x4000}, {FaultLog, 0x5c5000, 2104 << 10, 0x6000}, {Asset, 0x7d3000, 180 << 10, 0x8000},
	}, h.Extents)
	require.Len(t, h.Encode(), RegionHeaderSize)
}

func TestFormatOpenRoundTrip(t *testing.T) {
	for _, size := range []int64{60 << 10, 256 << 10, 1 << 20, 8 << 20, 32 << 20} {
		t.Run(hal.FormatSize(size), func(t *testing.T) {
			f := newNOR(t, size+64<<10)
			// leftovers from an earlier life must not leak into the region
			f.Poke(64<<10+size-100, []byte("old junk"))
			r := formatted(t, f, 64<<10, size)
			var err error
			require.Equal(t, int64(64<<10), r.Offset())
			require.Equal(t, size, r.Size())
			require.Same(t, f, r.Flash().(interface{}))
			for _, ty := range All() {
				rec, err := r.Read(ty)
				require.NoError(t, err, ty)
				require.Equal(t, Record{Type: ty, Seq: 1, Payload: Default(ty), CRC: Checksum(Default(ty))}, rec)
				off, n := r.Extent(ty)
				require.Equal(t, r.Offset()+r.Header().Extents[ty-1].Off, off)
				require.Equal(t, int64(r.Capacity(ty)+RecordHeaderSize), n)
			}
			buf := make([]byte, 8)
			_, err = f.ReadAt(buf, 64<<10+size-100)
			require.NoError(t, err)
			require.Equal(t, bytes.Repeat([]byte{0xFF}, 8), buf)
		})
	}
}

func TestFormatRegionBadPlaceChangesNothing(t *testing.T) {
	f := newNOR(t, 1<<20)
	tests := []struct {
		off, size int64
		want      string
	}{
		{off: 100, size: 256 << 10, want: "multiples of the erase size"},
		{off: 0, size: 1000, want: "multiples of the erase size"},
		{off: 0, size: 0, want: "multiples of the erase size"},
		{off: -4096, size: 256 << 10, want: "multiples of the erase size"},
		{off: 512 << 10, size: 1 << 20, want: "does not fit"},
		{off: 0, size: 16 << 10, want: "too small"},
	}
	before := stats(t, f)
	for _, tc := range tests {
		require.ErrorContains(t, FormatRegion(f, tc.off, tc.size), tc.want)
		_, err := OpenRegion(f, tc.off, tc.size)
		require.Error(t, err)
	}
	after := stats(t, f)
	require.Zero(t, after.Erases-before.Erases)
	require.Zero(t, after.Programs-before.Programs)
	require.Equal(t, int64(0), r0(t, f))
}

// r0 returns the number of non-0xFF bytes on f.
func r0(t *testing.T, f hal.Flash) int64 {
	buf := make([]byte, f.Geometry().Size)
	_, err := f.ReadAt(buf, 0)
	require.NoError(t, err)
	var n int64
	for _, c := range buf {
		if c != 0xFF {
			n++
		}
	}
	return n
}

func TestOpenRegionErrors(t *testing.T) {
	const size = 256 << 10
	f := newNOR(t, 1<<20)
	_, err := OpenRegion(f, 0, size)
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorIs(t, err, ErrRegionErased)
	// The wording is the one before ErrRegionErased existed, byte for
	// byte: reports (the engine's anomaly, inspect's info_error) carry it
	// as text, and the commands find ErrRegionErased's text in it.
	require.EqualError(t, err, "information region at 0x0 on primary: corrupt information: no region header (erased); format the region first")
	require.ErrorContains(t, err, ErrRegionErased.Error())

	require.NoError(t, FormatRegion(f, 0, size))
	_, err = OpenRegion(f, 0, 2*size)
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, "formatted for 256KiB, opened as 512KiB")

	// Any damaged header byte is detected.
	orig := make([]byte, RegionHeaderSize)
	_, err = f.ReadAt(orig, 0)
	require.NoError(t, err)
	for i := 0; i < RegionHeaderSize; i++ {
		bad := bytes.Clone(orig)
		bad[i] ^= 1 << (i % 8)
		f.Poke(0, bad)
		_, err := OpenRegion(f, 0, size)
		require.ErrorIs(t, err, ErrCorrupt, "byte %d", i)
		require.NotErrorIs(t, err, ErrRegionErased, "byte %d: damaged, not erased", i)
	}
	f.Poke(0, orig)
	_, err = OpenRegion(f, 0, size)
	require.NoError(t, err)
}

func TestDecodeRegionHeaderFields(t *testing.T) {
	h, err := PlanRegion(1<<20, 4<<10)
	require.NoError(t, err)
	good := h.Encode()
	le := binary.LittleEndian
	ext := func(i int) []byte { return good[regionFixed+i*extentEntry:] }
	_ = ext
	tests := []struct {
		name  string
		edit  func(b []byte)
		want  string
		noCRC bool // do not recompute the CRC
	}{
		{name: "crc", edit: func(b []byte) { b[20] ^= 1 }, want: "region header crc", noCRC: true},
		{name: "stored crc", edit: func(b []byte) { b[RegionHeaderSize-1] ^= 1 }, want: "region header crc", noCRC: true},
		{name: "erased", edit: func(b []byte) { copy(b, bytes.Repeat([]byte{0xFF}, len(b))) }, want: "erased", noCRC: true},
		{name: "magic", edit: func(b []byte) { b[0] = 'X' }, want: "region magic"},
		{name: "version", edit: func(b []byte) { le.PutUint16(b[8:], 3) }, want: "region version 3"},
		{name: "version 1 with a table", edit: func(b []byte) { le.PutUint16(b[8:], RegionVersionPlain) }, want: "reserved bytes"},
		{name: "table misplaced", edit: func(b []byte) { le.PutUint32(b[regionFixed+extentEntry+4:], 7) }, want: "fan change table at 0x7000, want 0x2000"},
		{name: "tables reach the first extent", edit: func(b []byte) {
			le.PutUint64(b[regionFixed+8:], 0x3000)
			le.PutUint64(b[regionFixed+16:], le.Uint64(b[regionFixed+16:])+0x4000)
		}, want: "change tables end at"},
		{name: "count", edit: func(b []byte) { le.PutUint16(b[10:], 5) }, want: "lists 5 extents"},
		{name: "erase size", edit: func(b []byte) { le.PutUint32(b[12:], 3000) }, want: "erase size 3000"},
		{name: "erase size zero", edit: func(b []byte) { le.PutUint32(b[12:], 0) }, want: "erase size 0"},
		{name: "region size", edit: func(b []byte) { le.PutUint64(b[16:], 1<<20+1) }, want: "region size"},
		{name: "extent type", edit: func(b []byte) { b[regionFixed+extentEntry] = byte(Power) }, want: "extent 1 is type power, want fan"},
		{name: "extent reserved", edit: func(b []byte) { b[regionFixed+3] = 1 }, want: "reserved bytes"},
		{name: "extent overlaps header", edit: func(b []byte) { le.PutUint64(b[regionFixed+8:], 0) }, want: "overlaps"},
		{name: "extent unaligned", edit: func(b []byte) { le.PutUint64(b[regionFixed+8:], 0x1800) }, want: "not aligned"},
		{name: "extent overlaps previous", edit: func(b []byte) {
			le.PutUint64(b[regionFixed+extentEntry+8:], le.Uint64(b[regionFixed+8:]))
		}, want: "overlaps"},
		{name: "capacity zero", edit: func(b []byte) { le.PutUint64(b[regionFixed+16:], 0) }, want: "capacity 0x0"},
		{name: "capacity unaligned", edit: func(b []byte) { le.PutUint64(b[regionFixed+16:], 5000) }, want: "capacity 0x1388"},
		{name: "past end", edit: func(b []byte) {
			o := regionFixed + 5*extentEntry
			le.PutUint64(b[o+16:], le.Uint64(b[o+16:])+4096)
		}, want: "ends past the region"},
		{name: "below minimum", edit: func(b []byte) {
			o := regionFixed + 5*extentEntry
			le.PutUint64(b[o+16:], 4096)
		}, want: "below its minimum"},
		{name: "short", edit: nil, want: "region header is"},
	}
	for _, tc := range tests {
		b := bytes.Clone(good)
		if tc.edit == nil {
			b = b[:40]
		} else {
			tc.edit(b)
			if !tc.noCRC {
				le.PutUint32(b[RegionHeaderSize-4:], Checksum(b[:RegionHeaderSize-4]))
			}
		}
		_, err := DecodeRegionHeader(b)
		require.ErrorIs(t, err, ErrCorrupt, tc.name)
		require.ErrorContains(t, err, tc.want, tc.name)
		// Only an erased header is ErrRegionErased: the commands' hint
		// (format the region) is for it, not for other damage.
		require.Equal(t, tc.name == "erased", errors.Is(err, ErrRegionErased), tc.name)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	f := newNOR(t, 1<<20)
	r := formatted(t, f, 0, 1<<20)
	var err error
	rng := rand.New(rand.NewPCG(7, 7))
	for _, ty := range All() {
		seq := uint64(1)
		for _, n := range []int{0, 1, 4095, 4096, 4097, r.Capacity(ty) / 2, r.Capacity(ty), 3} {
			p := make([]byte, n)
			for i := range p {
				p[i] = byte(rng.Uint32())
			}
			require.NoError(t, r.Write(ty, p), "%v %d", ty, n)
			seq++
			rec, err := r.Read(ty)
			require.NoError(t, err, "%v %d", ty, n)
			require.Equal(t, Record{Type: ty, Seq: seq, Payload: p, CRC: Checksum(p)}, rec)
			// Writing the same payload again changes nothing at all.
			before := stats(t, f)
			require.NoError(t, r.Write(ty, bytes.Clone(p)))
			d := stats(t, f).Sub(before)
			require.Zero(t, d.Erases)
			require.Zero(t, d.Programs)
			rec, err = r.Read(ty)
			require.NoError(t, err)
			require.Equal(t, seq, rec.Seq)
		}
	}
	// Other types were not disturbed by all this.
	for _, ty := range All() {
		_, err := r.Read(ty)
		require.NoError(t, err)
	}
	_, err = r.Read(0)
	require.ErrorContains(t, err, "unknown information type 0")
	require.ErrorContains(t, r.Write(7, nil), "unknown information type 7")
}

func TestWriteTooLarge(t *testing.T) {
	f := newNOR(t, 256<<10)
	r := formatted(t, f, 0, 256<<10)
	for _, ty := range All() {
		before := stats(t, f)
		err := r.Write(ty, make([]byte, r.Capacity(ty)+1))
		require.ErrorIs(t, err, ErrTooLarge, ty)
		require.ErrorContains(t, err, fmt.Sprintf("the extent holds %d", r.Capacity(ty)))
		d := stats(t, f).Sub(before)
		require.Zero(t, d.Erases+d.Programs, "a rejected write changes nothing")
		rec, err := r.Read(ty)
		require.NoError(t, err)
		require.Equal(t, Default(ty), rec.Payload)
	}
}

func TestReadDetectsCorruption(t *testing.T) {
	f := newNOR(t, 256<<10)
	r := formatted(t, f, 0, 256<<10)
	var err error
	payload := bytes.Repeat([]byte("sel entry 16 B.."), 100)
	require.NoError(t, r.Write(EventLog, payload))
	off, _ := r.Extent(EventLog)
	orig := make([]byte, RecordHeaderSize+len(payload))
	_, err = f.ReadAt(orig, off)
	require.NoError(t, err)
	// Every bit of the header and a sample of payload bits.
	for i := 0; i < len(orig); i += 1 + i/RecordHeaderSize*37 {
		for bit := 0; bit < 8; bit++ {
			bad := bytes.Clone(orig)
			bad[i] ^= 1 << bit
			f.Poke(off, bad)
			_, err := r.Read(EventLog)
			require.ErrorIs(t, err, ErrCorrupt, "byte %d bit %d", i, bit)
			require.ErrorContains(t, err, "event-log record at")
		}
	}
	f.Poke(off, orig)
	_, err = r.Read(EventLog)
	require.NoError(t, err)

	// Consistent headers (CRC recomputed) with a bad field.
	h := RecordHeader{Type: EventLog, Seq: 9, PayloadLen: uint32(len(payload)), PayloadCRC: Checksum(payload)}
	tests := []struct {
		name string
		h    RecordHeader
		want string
	}{
		{"type", RecordHeader{Type: FaultLog, Seq: 9, PayloadLen: h.PayloadLen, PayloadCRC: h.PayloadCRC}, "header says type fault-log"},
		{"length", RecordHeader{Type: EventLog, Seq: 9, PayloadLen: uint32(r.Capacity(EventLog) + 1), PayloadCRC: h.PayloadCRC}, "exceeds the extent"},
		{"payload crc", RecordHeader{Type: EventLog, Seq: 9, PayloadLen: h.PayloadLen, PayloadCRC: h.PayloadCRC + 1}, "payload crc"},
		{"shorter", RecordHeader{Type: EventLog, Seq: 9, PayloadLen: h.PayloadLen - 1, PayloadCRC: h.PayloadCRC}, "payload crc"},
	}
	for _, tc := range tests {
		f.Poke(off, encodeRecordHeader(tc.h))
		_, err := r.Read(EventLog)
		require.ErrorIs(t, err, ErrCorrupt, tc.name)
		require.ErrorContains(t, err, tc.want, tc.name)
	}
	f.Poke(off, bytes.Repeat([]byte{0xFF}, RecordHeaderSize))
	_, err = r.Read(EventLog)
	require.ErrorContains(t, err, "no record (erased)")
	// A service write repairs it (sequence restarts at 1: the old one is lost).
	require.NoError(t, r.Write(EventLog, payload))
	rec, err := r.Read(EventLog)
	require.NoError(t, err)
	require.Equal(t, uint64(1), rec.Seq)
}

func TestDecodeRecordHeaderFields(t *testing.T) {
	good := encodeRecordHeader(RecordHeader{Type: Node, Seq: 5, PayloadLen: 10, PayloadCRC: 0x1234})
	h, err := DecodeRecordHeader(good)
	require.NoError(t, err)
	require.Equal(t, RecordHeader{Type: Node, Seq: 5, PayloadLen: 10, PayloadCRC: 0x1234}, h)
	le := binary.LittleEndian
	tests := []struct {
		name string
		edit func(b []byte)
		want string
	}{
		{"magic", func(b []byte) { b[0] = 'X' }, "record magic"},
		{"version", func(b []byte) { b[4] = 2 }, "record version 2"},
		{"header size", func(b []byte) { le.PutUint16(b[6:], 64) }, "record header size 64"},
		{"reserved", func(b []byte) { b[25] = 1 }, "reserved field"},
		{"type zero", func(b []byte) { b[5] = 0 }, "record type 0 unknown"},
		{"type seven", func(b []byte) { b[5] = 7 }, "record type 7 unknown"},
	}
	for _, tc := range tests {
		b := bytes.Clone(good)
		tc.edit(b)
		le.PutUint32(b[28:], Checksum(b[:28]))
		_, err := DecodeRecordHeader(b)
		require.ErrorIs(t, err, ErrCorrupt, tc.name)
		require.ErrorContains(t, err, tc.want, tc.name)
	}
	_, err = DecodeRecordHeader(good[:31])
	require.ErrorContains(t, err, "record header is 31 bytes")
	b := bytes.Clone(good)
	b[8] ^= 1
	_, err = DecodeRecordHeader(b)
	require.ErrorContains(t, err, "record header crc")
}

// blockVersions returns the sim's per-block versions of f.
func blockVersions(f interface{ BlockVersion(int64) uint64 }, blocks int64) []uint64 {
	v := make([]uint64, blocks)
	for i := range v {
		v[i] = f.BlockVersion(int64(i))
	}
	return v
}

func TestWriteTouchesOnlyChangedBlocks(t *testing.T) {
	const size = 1 << 20
	f := newNOR(t, size)
	r := formatted(t, f, 0, size)
	eb := f.Geometry().EraseSize
	blocks := f.Geometry().Blocks()
	off, capacity := r.Extent(EventLog)
	first, last := off/eb, (off+capacity)/eb // the extent's blocks [first, last)
	toff, _, ok := r.ChangeTable(EventLog)
	require.True(t, ok)
	table := toff / eb // the event log's table fits one block here

	p := make([]byte, 10*eb)
	for i := range p {
		p[i] = byte(i * 7)
	}
	require.NoError(t, r.Write(EventLog, p))

	tests := []struct {
		name       string
		edit       func(p []byte) []byte
		wantErases int64   // at most; the header block needs none when its new bits only clear
		wantBlocks []int64 // blocks (relative to the extent) whose contents change
		noErase    int64   // a changed block (relative) that must be programmed without erase; 0: none
	}{
		{"one byte in block 5", func(p []byte) []byte { p[5*eb+100] ^= 0x55; return p }, 2, []int64{0, 5}, 0},
		{"bytes in blocks 3 and 8", func(p []byte) []byte { p[3*eb] ^= 1; p[8*eb+9] |= 0x80; return p }, 3, []int64{0, 3, 8}, 0},
		{"append 2 blocks into erased space", func(p []byte) []byte {
			return append(p, bytes.Repeat([]byte{0x42}, int(2*eb))...)
		}, 1, []int64{0, 10, 11, 12}, 0}, // the record header shifts the payload by 32 bytes
		{"clear bits only (NOR program, no erase)", func(p []byte) []byte { p[6*eb+2] &= 0x01; return p }, 1, []int64{0, 6}, 6},
		{"shrink to 4 blocks", func(p []byte) []byte { return p[:4*eb-RecordHeaderSize] }, 1, []int64{0}, 0},
	}
	for _, tc := range tests {
		before := stats(t, f)
		vBefore := blockVersions(f, blocks)
		wearBefore := f.Wear(first + tc.noErase)
		p = tc.edit(bytes.Clone(p))
		require.NoError(t, r.Write(EventLog, p), tc.name)
		d := stats(t, f).Sub(before)
		// The table block is erased too when a check's bits go 0→1.
		require.LessOrEqual(t, d.Erases, tc.wantErases+1, tc.name)
		require.GreaterOrEqual(t, d.Erases, tc.wantErases-1, tc.name)
		vAfter := blockVersions(f, blocks)
		// A shrink to whole blocks leaves the first blocks' checks as
		// they were: the table needs no change.
		if !strings.HasPrefix(tc.name, "shrink") {
			require.NotEqual(t, vBefore[table], vAfter[table], "%s: the change table follows the record", tc.name)
		}
		var changed []int64
		for b := int64(0); b < blocks; b++ {
			if b == table {
				continue
			}
			if vBefore[b] != vAfter[b] {
				require.True(t, b >= first && b < last, "%s: block %d outside the event-log extent changed", tc.name, b)
				changed = append(changed, b-first)
			}
		}
		require.Equal(t, tc.wantBlocks, changed, tc.name)
		if tc.noErase != 0 {
			require.Equal(t, wearBefore, f.Wear(first+tc.noErase), "%s: block %d was erased", tc.name, tc.noErase)
		}
		rec, err := r.Read(EventLog)
		require.NoError(t, err, tc.name)
		require.Equal(t, p, rec.Payload, tc.name)
	}
}

func TestRegionOnNAND(t *testing.T) {
	f := newNAND(t, 4<<20)
	eb := f.Geometry().EraseSize
	r := formatted(t, f, eb, 2<<20)
	for _, ty := range All() {
		rec, err := r.Read(ty)
		require.NoError(t, err)
		require.Equal(t, Default(ty), rec.Payload)
	}
	p := bytes.Repeat([]byte{1, 2, 3}, 33000)
	require.NoError(t, r.Write(FaultLog, p))
	p[1000] = 9
	require.NoError(t, r.Write(FaultLog, p))
	rec, err := r.Read(FaultLog)
	require.NoError(t, err)
	require.Equal(t, p, rec.Payload)
	require.Equal(t, uint64(3), rec.Seq)
	// A region laid out for 4 KiB blocks does not open on 128 KiB blocks.
	h, err := PlanRegion(2<<20, 4<<10)
	require.NoError(t, err)
	g := newNAND(t, 4<<20)
	buf := make([]byte, g.Geometry().WriteSize)
	for i := range buf {
		buf[i] = 0xFF
	}
	copy(buf, h.Encode())
	_, err = g.WriteAt(buf, 0)
	require.NoError(t, err)
	_, err = OpenRegion(g, 0, 2<<20)
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, "laid out for erase size 4KiB, device has 128KiB")
}

// TestDiffSpanAndProgramsOver checks the word-at-a-time diffSpan and
// hal.ProgramsOver against byte-by-byte definitions, on random buffers of every
// length up to 40 with differences placed everywhere.
func TestDiffSpanAndProgramsOver(t *testing.T) {
	naiveSpan := func(a, b []byte) (int64, int64) {
		first, last := int64(-1), int64(-1)
		for i := range b {
			if a[i] != b[i] {
				if first < 0 {
					first = int64(i)
				}
				last = int64(i)
			}
		}
		return first, last
	}
	naiveClears := func(cur, want []byte) bool {
		for i := range want {
			if cur[i]&want[i] != want[i] {
				return false
			}
		}
		return true
	}
	r := rand.New(rand.NewPCG(5, 6))
	for n := 0; n <= 40; n++ {
		for range 200 {
			a := make([]byte, n)
			for i := range a {
				a[i] = byte(r.Uint32())
			}
			b := slices.Clone(a)
			for range r.IntN(3) {
				if n > 0 {
					b[r.IntN(n)] ^= byte(1 + r.IntN(255))
				}
			}
			f, l := diffSpan(a, b)
			nf, nl := naiveSpan(a, b)
			require.Equal(t, [2]int64{nf, nl}, [2]int64{f, l}, "a=%x b=%x", a, b)
			c := slices.Clone(a)
			for i := range c {
				if r.IntN(4) == 0 {
					c[i] &= byte(r.Uint32()) // clears only
				}
			}
			if n > 0 && r.IntN(2) == 0 {
				c[r.IntN(n)] |= byte(1 << r.IntN(8)) // maybe sets a bit
			}
			require.Equal(t, naiveClears(a, c), hal.ProgramsOver(a, c), "cur=%x want=%x", a, c)
		}
	}
}

// TestRewrite: after Read, Rewrite stores the new record like Write but
// reads back only what it cannot know; a stale prev (the record written
// since) breaks its contract and the record reads back corrupt.
func TestRewrite(t *testing.T) {
	const size = 1 << 20
	f := newNOR(t, size)
	r := formatted(t, f, 0, size)
	eb := int(f.Geometry().EraseSize)
	p := make([]byte, 10*eb)
	for i := range p {
		p[i] = byte(i * 7)
	}
	require.NoError(t, r.Write(EventLog, p))

	prev, err := r.Read(EventLog)
	require.NoError(t, err)
	next := bytes.Clone(p)
	next[5*eb] ^= 0x55
	before := stats(t, f)
	require.NoError(t, r.Rewrite(prev, next))
	d := stats(t, f).Sub(before)
	require.Less(t, d.BytesRead, int64(3*eb), "reads the header and the changed block, not the record")
	rec, err := r.Read(EventLog)
	require.NoError(t, err)
	require.Equal(t, Record{Type: EventLog, Seq: prev.Seq + 1, Payload: next, CRC: Checksum(next)}, rec)

	// Stale prev: block 3 changed on the chip after prev was read, so
	// Rewrite skips it believing it already holds what next needs.
	stale := rec
	other := bytes.Clone(next)
	other[3*eb] ^= 0x0F
	require.NoError(t, r.Write(EventLog, other))
	again := bytes.Clone(next)
	again[7*eb] ^= 0x33
	require.NoError(t, r.Rewrite(stale, again))
	_, err = r.Read(EventLog)
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, r.Rewrite(Record{Type: 9}, nil), "unknown information type 9")
}

// TestReadInto: ReadInto returns Read's record, in buf's storage when it
// is large enough, in a new slice otherwise, with the same flash reads.
func TestReadInto(t *testing.T) {
	f := newNOR(t, 1<<20)
	r := formatted(t, f, 0, 1<<20)
	p := bytes.Repeat([]byte{0x5a, 0x01}, 3000)
	require.NoError(t, r.Write(Power, p))
	before := stats(t, f)
	want, err := r.Read(Power)
	require.NoError(t, err)
	read := stats(t, f).Sub(before)
	for _, tc := range []struct {
		name    string
		buf     []byte
		aliased bool
	}{
		{"nil", nil, false},
		{"too small", make([]byte, 10), false},
		{"large enough", make([]byte, 1, 8192), true},
	} {
		before := stats(t, f)
		rec, err := r.ReadInto(Power, tc.buf)
		require.NoError(t, err, tc.name)
		require.Equal(t, want, rec, tc.name)
		require.Equal(t, read, stats(t, f).Sub(before), tc.name)
		require.Equal(t, tc.aliased, tc.buf != nil && &rec.Payload[0] == &tc.buf[:1][0], tc.name)
	}
}
