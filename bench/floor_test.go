package bench

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testModel is a small part: 4 KiB erase units, 256 B pages.
var testModel = Model{
	EraseSize: 4096, PageSize: 256, UnitErase: 50 * time.Millisecond,
	PageProgram: time.Millisecond, CommandOverhead: time.Microsecond,
	ReadBytesPerSec: 1 << 20,
}

func TestRewriteFloor(t *testing.T) {
	const n = 32 << 10 // two blocks
	filled := bytes.Repeat([]byte{0x5A}, n)
	erased := bytes.Repeat([]byte{0xFF}, n)
	read := testModel.ReadTime(n)
	page := testModel.ProgramTime(256) // a full page of data
	share := testModel.EraseCommand()  // one erase unit: no share of a larger erase
	with := func(base []byte, edits ...func(b []byte)) []byte {
		b := bytes.Clone(base)
		for _, e := range edits {
			e(b)
		}
		return b
	}
	set := func(off int, v byte) func([]byte) { return func(b []byte) { b[off] = v } }
	fill := func(off, len int, v byte) func([]byte) {
		return func(b []byte) {
			for i := off; i < off+len; i++ {
				b[i] = v
			}
		}
	}
	tests := []struct {
		name     string
		old, new []byte
		want     Cost
	}{
		{"unchanged", filled, filled, Cost{Time: read, BytesRead: n}},
		{"data into an erased sector: programs, and the erased space it consumes", erased, with(erased, fill(100, 300, 0x00)),
			Cost{Time: read + share + testModel.ProgramTime(156) + testModel.ProgramTime(144), Erases: 1, PagesProgrammed: 2, BytesProgrammed: 512, BytesRead: n}},
		{"append into a partly written sector: programs only", with(erased, fill(0, 100, 0x00)), with(erased, fill(0, 400, 0x00)),
			Cost{Time: read + testModel.ProgramTime(156) + testModel.ProgramTime(144), PagesProgrammed: 2, BytesProgrammed: 512, BytesRead: n}},
		{"bits cleared in place: no erase", filled, with(filled, set(5000, 0x50)),
			Cost{Time: read + testModel.ProgramTime(1), PagesProgrammed: 1, BytesProgrammed: 256, BytesRead: n}},
		{"one bit set: erased space for the sector, its 16 pages", filled, with(filled, set(5000, 0x5B)),
			Cost{Time: read + share + 16*page, Erases: 1, PagesProgrammed: 16, BytesProgrammed: 4096, BytesRead: n}},
		{"erased pages of the new sector are not programmed", filled, with(filled, fill(4096, 2048, 0xFF)),
			Cost{Time: read + share + 8*page, Erases: 1, PagesProgrammed: 8, BytesProgrammed: 2048, BytesRead: n}},
		{"partial page after erase carries only its non-erased span", filled, with(filled, fill(4096, 4000, 0xFF)),
			Cost{Time: read + share + testModel.ProgramTime(96), Erases: 1, PagesProgrammed: 1, BytesProgrammed: 256, BytesRead: n}},
		{"three sectors anywhere: three shares", filled, with(filled, set(0, 0x7B), set(20000, 0x7B), set(30000, 0x7B)),
			Cost{Time: read + 3*share + 48*page, Erases: 3, PagesProgrammed: 48, BytesProgrammed: 48 * 256, BytesRead: n}},
		{"bit-clear and erase-needing sectors mixed", filled, with(filled, set(0, 0x7B), set(4096, 0x50)),
			Cost{Time: read + share + 16*page + testModel.ProgramTime(1), Erases: 1, PagesProgrammed: 17, BytesProgrammed: 17 * 256, BytesRead: n}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RewriteFloor(tt.old, tt.new, testModel, Info{})
			require.NoError(t, err)
			require.Equal(t, read, got.ReadTime)
			require.Equal(t, got.Time, got.ReadTime+got.ProgramTime+got.EraseTime)
			got.ReadTime, got.ProgramTime, got.EraseTime = 0, 0, 0
			require.Equal(t, tt.want, got)
		})
	}
}

func TestErasesFor(t *testing.T) {
	for _, k := range []int64{0, 1, 3, 9} {
		require.Equal(t, Cost{Erases: k, EraseTime: time.Duration(k) * (50*time.Millisecond + time.Microsecond)}, testModel.erasesFor(k), "k=%d", k)
	}
	// The 64k model's unit: one block erase command per unit.
	block := testModel
	block.EraseSize, block.UnitErase = 64<<10, 150*time.Millisecond
	require.Equal(t, Cost{Erases: 2, EraseTime: 2 * (150*time.Millisecond + time.Microsecond)}, block.erasesFor(2))
}

func TestErasedChecks(t *testing.T) {
	for _, k := range []int64{0, 1, 3} {
		require.Equal(t, Cost{BytesRead: k * testModel.EraseSize, ReadTime: time.Duration(k) * testModel.ReadTime(testModel.EraseSize)},
			testModel.erasedChecks(k), "k=%d", k)
	}
}

func TestCommitRecord(t *testing.T) {
	// A full page program (command, tPP, 256 bytes at 1 MiB/s) and 1/16 of
	// a 4 KiB erase command.
	want := time.Microsecond + time.Millisecond + testModel.BusTime(256) + (50*time.Millisecond+time.Microsecond)/16
	require.Equal(t, want, testModel.CommitRecord())
}

func TestPhysicalFloor(t *testing.T) {
	unit := testModel.EraseCommand()
	for _, tc := range []struct {
		name    string
		changed int64
		want    PhysicalCost
	}{
		{"nothing changed", 0, PhysicalCost{}},
		{"one byte: one page, 1/16 of an erase", 1, PhysicalCost{
			ReadTime: testModel.ReadTime(1), ProgramTime: time.Microsecond + time.Millisecond + testModel.BusTime(1),
			EraseTime: unit / 16, BytesRead: 1, PagesProgrammed: 1, Erases: 1.0 / 16}},
		{"257 bytes: two pages", 257, PhysicalCost{
			ReadTime: testModel.ReadTime(257), ProgramTime: 2*(time.Microsecond+time.Millisecond) + testModel.BusTime(257),
			EraseTime: unit / 8, BytesRead: 257, PagesProgrammed: 2, Erases: 2.0 / 16}},
		{"a whole unit: 16 pages, one erase", 4096, PhysicalCost{
			ReadTime: testModel.ReadTime(4096), ProgramTime: 16*(time.Microsecond+time.Millisecond) + testModel.BusTime(4096),
			EraseTime: unit, BytesRead: 4096, PagesProgrammed: 16, Erases: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PhysicalFloor(tc.changed, testModel)
			require.NoError(t, err)
			tc.want.Latency = tc.want.ReadTime + tc.want.ProgramTime
			tc.want.Device = tc.want.Latency + tc.want.EraseTime
			require.Equal(t, tc.want, got)
		})
	}
	// The physical floor is below the rewrite floor of the same change.
	const n = 32 << 10
	old := bytes.Repeat([]byte{0x5A}, n)
	cur := bytes.Clone(old)
	cur[5000], cur[20000] = 0x5B, 0x7B
	rf, err := RewriteFloor(old, cur, testModel, Info{})
	require.NoError(t, err)
	pf, err := PhysicalFloor(ChangedBytes(old, cur), testModel)
	require.NoError(t, err)
	require.Less(t, pf.Device, rf.Time)
	require.Less(t, pf.Latency, rf.ReadTime+rf.ProgramTime)

	_, err = PhysicalFloor(-1, testModel)
	require.ErrorContains(t, err, "-1 changed bytes")
	_, err = PhysicalFloor(1, Model{EraseSize: 4096, PageSize: 256})
	require.ErrorContains(t, err, "read rate")
}

func TestFloorInfo(t *testing.T) {
	const n = 32 << 10
	old := bytes.Repeat([]byte{0x5A}, n)
	new := bytes.Clone(old)
	new[4100] = 0x7B // framing byte: packed append, no erase
	new[4101] = 0x7B
	new[9000] = 0x50 // payload byte, bits cleared: in place, no erase
	in := Info{
		Live: []Range{{0, 100}, {4096, 8192}},
		Meta: []Range{{4096, 32}},
	}
	got, err := RewriteFloor(old, new, testModel, in)
	require.NoError(t, err)
	require.Equal(t, Cost{
		ReadTime:        testModel.ReadTime(100) + testModel.ReadTime(8192),
		ProgramTime:     testModel.ProgramTime(2) + testModel.ProgramTime(1),
		Time:            testModel.ReadTime(100) + testModel.ReadTime(8192) + testModel.ProgramTime(2) + testModel.ProgramTime(1),
		PagesProgrammed: 2, BytesProgrammed: 512, BytesRead: 8292,
	}, got)
	require.Equal(t, byte(0x7B), new[4100], "Floor must not change its input")

	_, err = RewriteFloor(old, new, testModel, Info{Live: []Range{{n - 10, 20}}})
	require.Error(t, err)
	_, err = RewriteFloor(old, new, testModel, Info{Meta: []Range{{-1, 2}}})
	require.Error(t, err)
}

func TestFloorRejectsBadInput(t *testing.T) {
	a := make([]byte, 8192)
	for _, tc := range []struct {
		name     string
		old, new []byte
		m        Model
	}{
		{"length mismatch", a, a[:4096], testModel},
		{"not whole sectors", a[:100], a[:100], testModel},
		{"bad model", a, a, Model{EraseSize: 4096, PageSize: 256}},
	} {
		_, err := RewriteFloor(tc.old, tc.new, tc.m, Info{})
		require.Error(t, err, tc.name)
	}
}

func TestChangedBytes(t *testing.T) {
	a := bytes.Repeat([]byte{1}, 10000)
	b := bytes.Clone(a)
	b[0], b[4097], b[9999] = 0, 0, 0
	require.EqualValues(t, 3, ChangedBytes(a, b))
	require.EqualValues(t, 0, ChangedBytes(a, a))
}
