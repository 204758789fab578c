package sim

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// bus is the 1-1-4 @ 50 MHz transfer time of n bytes (25 MB/s).
func bus(n int64) time.Duration { return time.Duration(n * 40) } // 40 ns per byte

const cmdNOR = 960 * time.Nanosecond

// TestProgramOneMiBW25Q256JV: programming 1 MiB into erased W25Q256JV space
// costs 4096 page programs × 0.704 ms at typical timing, plus the bus.
func TestProgramOneMiBW25Q256JV(t *testing.T) {
	for _, chunk := range []int{256, 4096, 1 << 20} { // page by page, or in one call
		f := newChip(t, norName, 4<<20)
		data := fill(1<<20, 0x5A)
		for off := 0; off < len(data); off += chunk {
			_, err := f.WriteAt(data[off:off+chunk], int64(off))
			require.NoError(t, err)
		}
		st := f.Stats()
		require.Equal(t, int64(4096), st.PagesProgrammed)
		pageTime := st.Elapsed - bus(1<<20) - 4096*cmdNOR
		require.Equal(t, 4096*704*time.Microsecond, pageTime, "chunk %d", chunk)
		require.Equal(t, 2883584*time.Microsecond+41943040*time.Nanosecond+3932160*time.Nanosecond, st.Elapsed)
	}
}

func TestTiming(t *testing.T) {
	const (
		tSE, tBE           = 64 * time.Millisecond, 160 * time.Millisecond   // w25q256jv typical
		tSEMax, tBEMax     = 896 * time.Millisecond, 2240 * time.Millisecond // w25q256jv max
		sector, block      = cmdNOR + tSE, cmdNOR + tBE
		tPP, tPPMax        = 704 * time.Microsecond, 4224 * time.Microsecond
		mxSector, mxPP     = cmdNOR + 30*time.Millisecond, 256 * time.Microsecond
		mxBlock            = cmdNOR + 288*time.Millisecond
		nandCmd, nandProg  = 1280 * time.Nanosecond, 220 * time.Microsecond
		nandRead, nandBErs = 25 * time.Microsecond, 10 * time.Millisecond
	)
	cases := []struct {
		name string
		part string
		max  bool
		em   EraseModel
		op   func(t *testing.T, f *Flash)
		want time.Duration
	}{
		{"nor read 4 KiB", norName, false, Erase4K, func(t *testing.T, f *Flash) {
			_, err := f.ReadAt(make([]byte, 4096), 123)
			require.NoError(t, err)
		}, cmdNOR + bus(4096)},
		{"nor read 1 byte", norName, false, Erase4K, func(t *testing.T, f *Flash) {
			_, err := f.ReadAt(make([]byte, 1), 0)
			require.NoError(t, err)
		}, cmdNOR + bus(1)},
		{"nor zero-length read is free", norName, false, Erase4K, func(t *testing.T, f *Flash) {
			_, err := f.ReadAt(nil, 0)
			require.NoError(t, err)
		}, 0},
		{"nor program 2 bytes across a page boundary", norName, false, Erase4K, func(t *testing.T, f *Flash) {
			_, err := f.WriteAt([]byte{1, 2}, 255)
			require.NoError(t, err)
		}, 2*(cmdNOR+tPP) + bus(2)},
		{"nor program 1 byte at max timing", norName, true, Erase4K, func(t *testing.T, f *Flash) {
			_, err := f.WriteAt([]byte{1}, 77)
			require.NoError(t, err)
		}, cmdNOR + tPPMax + bus(1)},
		{"nor 4 KiB sector erase", norName, false, Erase4K, func(t *testing.T, f *Flash) {
			require.NoError(t, f.Erase(4096, 4096))
		}, sector},
		{"4k model: an aligned 64 KiB erase is 16 sector erases", norName, false, Erase4K, func(t *testing.T, f *Flash) {
			require.NoError(t, f.Erase(64<<10, 64<<10))
		}, 16 * sector},
		{"4k model: an unaligned 64 KiB span is 16 sector erases", norName, false, Erase4K, func(t *testing.T, f *Flash) {
			require.NoError(t, f.Erase(4096, 64<<10))
		}, 16 * sector},
		{"4k model: 128 KiB at 32 KiB is 32 sector erases", norName, false, Erase4K, func(t *testing.T, f *Flash) {
			require.NoError(t, f.Erase(32<<10, 128<<10))
		}, 32 * sector},
		{"4k model: 128 KiB at max timing", norName, true, Erase4K, func(t *testing.T, f *Flash) {
			require.NoError(t, f.Erase(0, 128<<10))
		}, 32 * (cmdNOR + tSEMax)},
		{"64k model: a 64 KiB erase is one block erase", norName, false, Erase64K, func(t *testing.T, f *Flash) {
			require.NoError(t, f.Erase(64<<10, 64<<10))
		}, block},
		{"64k model: 128 KiB at max timing is 2 block erases", norName, true, Erase64K, func(t *testing.T, f *Flash) {
			require.NoError(t, f.Erase(0, 128<<10))
		}, 2 * (cmdNOR + tBEMax)},
		{"64k model: program and read cost as in the 4k model", norName, false, Erase64K, func(t *testing.T, f *Flash) {
			_, err := f.WriteAt([]byte{1, 2}, 255)
			require.NoError(t, err)
			_, err = f.ReadAt(make([]byte, 4096), 123)
			require.NoError(t, err)
		}, 2*(cmdNOR+tPP) + bus(2) + cmdNOR + bus(4096)},
		{"mx66l1g45g program page, erase sector, erase 64 KiB (4k model)", "mx66l1g45g", false, Erase4K, func(t *testing.T, f *Flash) {
			_, err := f.WriteAt(fill(256, 0), 0)
			require.NoError(t, err)
			require.NoError(t, f.Erase(0, 4096))
			require.NoError(t, f.Erase(0, 64<<10))
		}, cmdNOR + mxPP + bus(256) + mxSector + 16*mxSector},
		{"mx66l1g45g erase 64 KiB (64k model)", "mx66l1g45g", false, Erase64K, func(t *testing.T, f *Flash) {
			require.NoError(t, f.Erase(0, 64<<10))
		}, mxBlock},
		{"mt25ql256 program page", "mt25ql256", false, Erase4K, func(t *testing.T, f *Flash) {
			_, err := f.WriteAt(fill(256, 0), 256)
			require.NoError(t, err)
		}, cmdNOR + 120*time.Microsecond + bus(256)},
		{"nand read 4 KiB at 1 KiB touches 3 pages", nandName, false, Erase4K, func(t *testing.T, f *Flash) {
			_, err := f.ReadAt(make([]byte, 4096), 1024)
			require.NoError(t, err)
		}, nandCmd + bus(4096) + 3*nandRead},
		{"nand program 2 pages", nandName, false, Erase4K, func(t *testing.T, f *Flash) {
			_, err := f.WriteAt(fill(2*page, 0), 0)
			require.NoError(t, err)
		}, 2*(nandCmd+nandProg) + bus(2*page)},
		{"nand block erase at max timing", nandName, true, Erase4K, func(t *testing.T, f *Flash) {
			require.NoError(t, f.Erase(0, 2*nblock))
		}, 2 * (nandCmd + nandBErs)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			f, err := New(Options{Part: mustPart(t, tc.part), Size: 1 << 20, MaxTiming: tc.max, EraseModel: tc.em, Clock: clock})
			require.NoError(t, err)
			tc.op(t, f)
			require.Equal(t, tc.want, f.Stats().Elapsed)
			require.Equal(t, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Add(tc.want), clock.Now())
			require.Equal(t, tc.want, clock.Elapsed())
		})
	}
}

func TestSharedClock(t *testing.T) {
	clock := NewClock(time.Unix(1000, 0))
	a, err := New(Options{Part: mustPart(t, norName), Size: 1 << 20, Clock: clock, Name: "a"})
	require.NoError(t, err)
	b, err := New(Options{Part: mustPart(t, "mx66l1g45g"), Size: 1 << 20, Clock: clock, Name: "b"})
	require.NoError(t, err)
	require.Same(t, clock, a.Clock())
	require.NoError(t, a.Erase(0, 4096))
	require.NoError(t, b.Erase(0, 4096))
	require.Equal(t, cmdNOR+64*time.Millisecond, a.Stats().Elapsed)
	require.Equal(t, cmdNOR+30*time.Millisecond, b.Stats().Elapsed)
	require.Equal(t, time.Unix(1000, 0).Add(2*cmdNOR+94*time.Millisecond), clock.Now())

	own, err := New(Options{Part: mustPart(t, norName), Size: 1 << 20})
	require.NoError(t, err)
	require.NotSame(t, clock, own.Clock())
	require.Equal(t, time.Unix(0, 0).UTC(), own.Clock().Now())
}

func TestClock(t *testing.T) {
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	c := NewClock(start)
	require.Equal(t, start, c.Now())
	require.NoError(t, c.Sleep(context.Background(), 3*time.Second))
	c.Advance(time.Millisecond)
	c.Advance(-time.Hour) // ignored: virtual time only moves forward
	require.Equal(t, start.Add(3001*time.Millisecond), c.Now())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, c.Sleep(ctx, time.Hour), context.Canceled)
	require.Equal(t, start.Add(3001*time.Millisecond), c.Now(), "a cancelled sleep does not advance")
}

func TestStatsCount(t *testing.T) {
	f := newChip(t, norName, 1<<20)
	_, err := f.WriteAt(fill(300, 0), 250) // bytes 250..549: pages 0, 1, 2
	require.NoError(t, err)
	_, err = f.ReadAt(make([]byte, 10), 0)
	require.NoError(t, err)
	require.NoError(t, f.Erase(0, 8192))
	st := f.Stats()
	st.Elapsed = 0
	require.Equal(t, struct{ R, BR, P, PP, BP, E int64 }{1, 10, 1, 3, 300, 2},
		struct{ R, BR, P, PP, BP, E int64 }{st.Reads, st.BytesRead, st.Programs, st.PagesProgrammed, st.BytesProgrammed, st.Erases})
}
