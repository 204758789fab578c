package mtd_test

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/hal/haltest"
	"github.com/cmcsync/cmcsync/hal/mtd"
	"github.com/cmcsync/cmcsync/hal/mtd/mtdfake"
)

var _ mtd.Sys = (*mtdfake.Kernel)(nil)

var (
	_ hal.Flash       = (*mtd.Device)(nil)
	_ hal.BadBlocker  = (*mtd.Device)(nil)
	_ hal.Stater      = (*mtd.Device)(nil)
	_ hal.PieceReader = (*mtd.Device)(nil)
)

// open adds chip to a new fake kernel and opens it.
func open(t *testing.T, chip mtdfake.Chip) (*mtd.Device, *mtdfake.Kernel) {
	t.Helper()
	k := mtdfake.New()
	path := k.Add(chip)
	d, err := mtd.OpenWith(path, k)
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	return d, k
}

func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		chip mtdfake.Chip
	}{
		{"nor-4k", mtdfake.NOR("flash1", 1<<20, 4<<10)},
		{"nor-64k", mtdfake.NOR("boot", 1<<20, 64<<10)},
		{"nor-tiny-erase", mtdfake.NOR("tiny", 64<<10, 128)},
		{"nand-one-page-blocks", mtdfake.NAND("nandp", 256<<10, 2048, 2048)},
		{"nand-2k", mtdfake.NAND("nand0", 2<<20, 128<<10, 2048)},
		{"nand-512", mtdfake.NAND("nand1", 1<<20, 16<<10, 512)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			haltest.Run(t, func(t *testing.T) hal.Flash {
				d, _ := open(t, tc.chip)
				return d
			})
		})
	}
}

func TestConformanceCheckWithBadBlocks(t *testing.T) {
	k := mtdfake.New()
	path := k.Add(mtdfake.NAND("nand0", 4<<20, 128<<10, 2048))
	for _, b := range []int64{0, 15, 16, 31} { // first, middle and last blocks bad
		k.SetBad(0, b)
	}
	d, err := mtd.OpenWith(path, k)
	require.NoError(t, err)
	defer d.Close()
	rep, err := haltest.Check(d)
	require.NoError(t, err)
	require.GreaterOrEqual(t, rep.Passed(), 12)
	for _, b := range []int64{0, 15, 16, 31} {
		bad, err := d.IsBad(b * 128 << 10)
		require.NoError(t, err)
		require.True(t, bad, "Check must not change the bad-block table")
	}
}

func TestStructLayouts(t *testing.T) {
	// The device encodes these structures by hand; they must match x/sys's
	// and the size each request number encodes.
	require.Equal(t, uintptr(32), unsafe.Sizeof(unix.MtdInfo{}))
	require.Equal(t, uintptr(16), unsafe.Sizeof(unix.EraseInfo64{}))
	size := func(req uint) int { return int(req>>16) & 0x3fff }
	require.Equal(t, 32, size(unix.MEMGETINFO))
	require.Equal(t, 16, size(unix.MEMERASE64))
	require.Equal(t, 8, size(unix.MEMGETBADBLOCK))
	require.Equal(t, 8, size(unix.MEMSETBADBLOCK))
	require.Equal(t, 4, size(unix.MEMGETREGIONCOUNT))
}

func TestOpenGeometry(t *testing.T) {
	big := mtdfake.NOR("flash-big", 8<<30, 64<<10) // 8 GiB: MEMGETINFO's 32-bit size is 0
	noSysfs := mtdfake.NOR("hidden", 2<<20, 4<<10)
	noSysfs.NoSysfs = true
	ram := mtdfake.NOR("ram0", 1<<20, 128<<10)
	ram.Type = unix.MTD_RAM
	mlc := mtdfake.NAND("mlc", 8<<20, 256<<10, 4096)
	mlc.Type = unix.MTD_MLCNANDFLASH
	for _, tc := range []struct {
		name  string
		chip  mtdfake.Chip
		want  hal.Geometry
		sysfs bool
		typ   string
	}{
		{"nor", mtdfake.NOR("flash1", 128<<20, 4<<10), hal.Geometry{Name: "flash1", Kind: hal.NOR, Size: 128 << 20, EraseSize: 4 << 10, WriteSize: 1, PageSize: 256}, true, "nor"},
		{"64-bit size from sysfs", big, hal.Geometry{Name: "flash-big", Kind: hal.NOR, Size: 8 << 30, EraseSize: 64 << 10, WriteSize: 1, PageSize: 256}, true, "nor"},
		{"no sysfs", noSysfs, hal.Geometry{Name: "mtd0", Kind: hal.NOR, Size: 2 << 20, EraseSize: 4 << 10, WriteSize: 1, PageSize: 256}, false, "nor"},
		{"ram as nor", ram, hal.Geometry{Name: "ram0", Kind: hal.NOR, Size: 1 << 20, EraseSize: 128 << 10, WriteSize: 1, PageSize: 256}, true, "ram"},
		{"nand", mtdfake.NAND("nand0", 64<<20, 128<<10, 2048), hal.Geometry{Name: "nand0", Kind: hal.NAND, Size: 64 << 20, EraseSize: 128 << 10, WriteSize: 2048, PageSize: 2048}, true, "nand"},
		{"mlc nand", mlc, hal.Geometry{Name: "mlc", Kind: hal.NAND, Size: 8 << 20, EraseSize: 256 << 10, WriteSize: 4096, PageSize: 4096}, true, "mlc-nand"},
		{"tiny erase", mtdfake.NOR("tiny", 1<<16, 128), hal.Geometry{Name: "tiny", Kind: hal.NOR, Size: 1 << 16, EraseSize: 128, WriteSize: 1, PageSize: 128}, true, "nor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := open(t, tc.chip)
			require.Equal(t, tc.want, d.Geometry())
			info := d.Info()
			require.Equal(t, tc.sysfs, info.Sysfs)
			require.Equal(t, tc.typ, info.TypeName)
			require.Equal(t, "/dev/mtd0", info.Path)
			require.Equal(t, 0, info.Index)
		})
	}
}

func TestLargeDeviceEnd(t *testing.T) {
	// Offsets past 4 GiB reach the kernel intact.
	d, k := open(t, mtdfake.NOR("flash-big", 8<<30, 64<<10))
	off := int64(8<<30) - 64<<10
	require.NoError(t, d.Erase(off, 64<<10))
	_, err := d.WriteAt([]byte{0x12, 0x34}, off+10)
	require.NoError(t, err)
	require.Equal(t, []byte{0xFF, 0x12, 0x34, 0xFF}, k.Contents(0, off+9, 4))
	require.Contains(t, k.Calls(), "MEMERASE64 fd=3 start=0x1ffff0000 len=0x10000")
}

func TestOpenRefuses(t *testing.T) {
	mod := func(c mtdfake.Chip, f func(c *mtdfake.Chip)) mtdfake.Chip { f(&c); return c }
	nor := mtdfake.NOR("flash1", 1<<20, 4<<10)
	for _, tc := range []struct {
		name string
		chip mtdfake.Chip
		want string
	}{
		{"erase size not a power of two", mod(nor, func(c *mtdfake.Chip) { c.EraseSize = 3 << 10; c.Size = 3 << 20 }), "erase size 3072 is not a positive power of two"},
		{"dataflash", mod(nor, func(c *mtdfake.Chip) { c.Type = unix.MTD_DATAFLASH }), "MTD type 6 (dataflash)"},
		{"rom", mod(nor, func(c *mtdfake.Chip) { c.Type = unix.MTD_ROM }), "MTD type 2 (rom)"},
		{"ubi volume", mod(nor, func(c *mtdfake.Chip) { c.Type = unix.MTD_UBIVOLUME }), "(ubi)"},
		{"read-only", mod(nor, func(c *mtdfake.Chip) { c.Flags = 0 }), "read-only"},
		{"no erase", mod(nor, func(c *mtdfake.Chip) { c.Flags |= unix.MTD_NO_ERASE }), "cannot erase"},
		{"erase regions", mod(nor, func(c *mtdfake.Chip) { c.Regions = 2 }), "2 erase regions"},
		{"size not a multiple of erase", mod(nor, func(c *mtdfake.Chip) { c.Size = 1<<20 + 512 }), "not a positive multiple of the erase size"},
		{"nand page not power of two", mtdfake.NAND("n", 1<<20, 16<<10, 528), "write size 528"},
		{"sysfs size disagrees", mod(nor, func(c *mtdfake.Chip) { c.Sysfs = map[string]string{"size": "2097152"} }), "disagrees with MEMGETINFO"},
		{"sysfs erase size disagrees", mod(nor, func(c *mtdfake.Chip) { c.Sysfs = map[string]string{"erasesize": "65536"} }), "disagrees with MEMGETINFO"},
		{"sysfs garbage", mod(nor, func(c *mtdfake.Chip) { c.Sysfs = map[string]string{"writesize": "one"} }), `parsing "one"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := mtdfake.New()
			path := k.Add(tc.chip)
			d, err := mtd.OpenWith(path, k)
			require.Nil(t, d)
			require.ErrorContains(t, err, tc.want)
			var oe *hal.OpError
			require.ErrorAs(t, err, &oe)
			require.Equal(t, "open", oe.Op)
			require.Equal(t, path, oe.Dev)
			if !strings.Contains(tc.name, "read-only") && !strings.Contains(tc.name, "sysfs") {
				require.ErrorIs(t, err, hal.ErrUnsupported)
			}
			require.Equal(t, 0, k.OpenFDs(), "a refused device's descriptor is closed")
		})
	}
}

func TestOpenErrors(t *testing.T) {
	k := mtdfake.New()
	k.Add(mtdfake.NOR("flash1", 1<<20, 4<<10))
	_, err := mtd.OpenWith("/dev/mtd7", k)
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.ErrorContains(t, err, "/proc/mtd")

	k.FailNext(mtdfake.CallMEMGETINFO, unix.EIO)
	_, err = mtd.OpenWith("/dev/mtd0", k)
	require.ErrorIs(t, err, unix.EIO)
	require.ErrorContains(t, err, "MEMGETINFO")
	require.Equal(t, 0, k.OpenFDs())

	// Read-only (no MTD_WRITEABLE): the kernel refuses the read-write open.
	ro := mtdfake.NOR("ro", 1<<20, 4<<10)
	ro.Flags = 0
	path := k.Add(ro)
	_, err = mtd.OpenWith(path, k)
	require.ErrorIs(t, err, unix.EACCES)
	require.ErrorContains(t, err, "read-only")
}

func TestOpenRealKernel(t *testing.T) {
	_, err := mtd.Open("/nonexistent/mtd0")
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, err = mtd.Open("/dev/null")
	require.ErrorIs(t, err, hal.ErrUnsupported)
	require.ErrorContains(t, err, "not an MTD character device")
}

func TestCheckedBeforeAnySyscall(t *testing.T) {
	d, k := open(t, mtdfake.NAND("nand0", 1<<20, 16<<10, 512))
	k.ResetCalls()
	_, err := d.WriteAt(make([]byte, 512), 100)
	require.ErrorIs(t, err, hal.ErrUnaligned)
	_, err = d.WriteAt(make([]byte, 100), 0)
	require.ErrorIs(t, err, hal.ErrUnaligned)
	require.ErrorIs(t, d.Erase(512, 16<<10), hal.ErrUnaligned)
	require.ErrorIs(t, d.Erase(0, 0), hal.ErrUnaligned)
	require.ErrorIs(t, d.Erase(1<<20, 16<<10), hal.ErrOutOfRange)
	_, err = d.ReadAt(make([]byte, 2), 1<<20-1)
	require.ErrorIs(t, err, hal.ErrOutOfRange)
	_, err = d.IsBad(-1)
	require.ErrorIs(t, err, hal.ErrOutOfRange)
	require.ErrorIs(t, d.MarkBad(1<<20), hal.ErrOutOfRange)
	n, err := d.ReadAt(nil, 1<<20)
	require.NoError(t, err)
	require.Zero(t, n)
	require.Empty(t, k.Calls(), "rejected and empty operations make no system call")
}

func TestKernelErrorsMapped(t *testing.T) {
	d, k := open(t, mtdfake.NOR("flash1", 1<<20, 4<<10))
	for _, tc := range []struct {
		call  mtdfake.Call
		errno unix.Errno
		want  error
		do    func() error
	}{
		{mtdfake.CallMEMERASE64, unix.EIO, hal.ErrMedia, func() error { return d.Erase(0, 4096) }},
		{mtdfake.CallMEMERASE64, unix.ETIMEDOUT, hal.ErrTimeout, func() error { return d.Erase(0, 4096) }},
		{mtdfake.CallPwrite, unix.EIO, hal.ErrMedia, func() error { _, err := d.WriteAt([]byte{1}, 0); return err }},
		{mtdfake.CallPwrite, unix.EROFS, hal.ErrUnsupported, func() error { _, err := d.WriteAt([]byte{1}, 0); return err }},
		{mtdfake.CallPread, unix.EBADMSG, hal.ErrMedia, func() error { _, err := d.ReadAt(make([]byte, 4), 0); return err }},
		{mtdfake.CallPread, unix.ENOMEM, hal.ErrMedia, func() error { _, err := d.ReadAt(make([]byte, 4), 0); return err }},
		{mtdfake.CallMEMGETBADBLOCK, unix.EIO, hal.ErrMedia, func() error { _, err := d.IsBad(0); return err }},
	} {
		t.Run(string(tc.call)+"/"+unix.ErrnoName(tc.errno), func(t *testing.T) {
			k.FailNext(tc.call, tc.errno)
			err := tc.do()
			require.ErrorIs(t, err, tc.want)
			require.ErrorIs(t, err, tc.errno)
			var oe *hal.OpError
			require.ErrorAs(t, err, &oe)
			require.Equal(t, "flash1", oe.Dev)
			require.Contains(t, err.Error(), "kernel: "+tc.errno.Error())
		})
	}
}

func TestEINTRRetried(t *testing.T) {
	d, k := open(t, mtdfake.NOR("flash1", 1<<20, 4<<10))
	k.FailNext(mtdfake.CallPwrite, unix.EINTR)
	k.FailNext(mtdfake.CallMEMERASE64, unix.EINTR)
	require.NoError(t, d.Erase(0, 4096))
	_, err := d.WriteAt([]byte{0xA5}, 7)
	require.NoError(t, err)
	require.Equal(t, []byte{0xA5}, k.Contents(0, 7, 1))
}

func TestNORProgramsByAnd(t *testing.T) {
	d, k := open(t, mtdfake.NOR("flash1", 1<<20, 4<<10))
	_, err := d.WriteAt([]byte{0xF0, 0x0F}, 4097)
	require.NoError(t, err)
	_, err = d.WriteAt([]byte{0x3C, 0x3C}, 4097)
	require.NoError(t, err)
	got := make([]byte, 4)
	_, err = d.ReadAt(got, 4096)
	require.NoError(t, err)
	require.Equal(t, []byte{0xFF, 0x30, 0x0C, 0xFF}, got)
	require.Equal(t, got, k.Contents(0, 4096, 4))
	require.NoError(t, d.Erase(4096, 4096))
	require.Equal(t, []byte{0xFF, 0xFF, 0xFF, 0xFF}, k.Contents(0, 4096, 4))
}

func TestNANDRules(t *testing.T) {
	d, k := open(t, mtdfake.NAND("nand0", 1<<20, 16<<10, 512))
	page := make([]byte, 512)
	for i := range page {
		page[i] = byte(i)
	}
	_, err := d.WriteAt(page, 16<<10)
	require.NoError(t, err)

	k.ResetCalls()
	n, err := d.WriteAt(make([]byte, 1024), 16<<10) // page 0 again, then page 1
	require.ErrorIs(t, err, hal.ErrNAND)
	require.Zero(t, n)
	require.ErrorContains(t, err, "page 32 at 0x4000 is not erased")
	for _, c := range k.Calls() {
		require.NotContains(t, c, "pwrite", "a refused program must not reach the kernel")
	}
	require.Equal(t, page, k.Contents(0, 16<<10, 512))

	// Bad blocks: the block is refused before the kernel is asked to erase.
	k.SetBad(0, 3)
	bad, err := d.IsBad(3*16<<10 + 100)
	require.NoError(t, err)
	require.True(t, bad)
	k.ResetCalls()
	err = d.Erase(2*16<<10, 2*16<<10)
	require.ErrorIs(t, err, hal.ErrBadBlock)
	require.ErrorContains(t, err, "erase block 3 at 0xc000")
	for _, c := range k.Calls() {
		require.NotContains(t, c, "MEMERASE64")
	}
	_, err = d.WriteAt(page, 3*16<<10)
	require.ErrorIs(t, err, hal.ErrBadBlock)
	_, err = d.ReadAt(make([]byte, 10), 3*16<<10-5)
	require.ErrorIs(t, err, hal.ErrBadBlock)

	require.NoError(t, d.MarkBad(5*16<<10+7))
	bad, err = d.IsBad(5 * 16 << 10)
	require.NoError(t, err)
	require.True(t, bad)
	require.Contains(t, k.Calls(), "MEMSETBADBLOCK fd=3 off=0x14000")
	bad, err = d.IsBad(4 * 16 << 10)
	require.NoError(t, err)
	require.False(t, bad)
}

func TestNORBadBlocks(t *testing.T) {
	d, _ := open(t, mtdfake.NOR("flash1", 1<<20, 4<<10))
	bad, err := d.IsBad(8192)
	require.NoError(t, err)
	require.False(t, bad)
	err = d.MarkBad(8192)
	require.ErrorIs(t, err, hal.ErrUnsupported)
	require.ErrorIs(t, err, errors.ErrUnsupported)
}

func TestStats(t *testing.T) {
	d, _ := open(t, mtdfake.NOR("flash1", 1<<20, 4<<10))
	require.NoError(t, d.Erase(0, 8192))
	_, err := d.WriteAt(make([]byte, 300), 200) // pages 0, 1 and 1: 200..499 touches pages 0 and 1
	require.NoError(t, err)
	_, err = d.ReadAt(make([]byte, 1000), 0)
	require.NoError(t, err)
	_, err = d.ReadAt(make([]byte, 2), -1) // rejected: not counted
	require.Error(t, err)
	s := d.Stats()
	require.Equal(t, hal.Stats{Reads: 1, BytesRead: 1000, Programs: 1, PagesProgrammed: 2, BytesProgrammed: 300, Erases: 2, Elapsed: s.Elapsed}, s)
	require.Positive(t, s.Elapsed)
}

// TestReadAtPieces: a long read is handed on in 64 KiB pieces, each
// holding its data when handed on, and counts as one read.
func TestReadAtPieces(t *testing.T) {
	d, _ := open(t, mtdfake.NOR("flash1", 1<<20, 4<<10))
	data := make([]byte, 200<<10)
	for i := range data {
		data[i] = byte(i * 7)
	}
	require.NoError(t, d.Erase(0, 1<<20))
	_, err := d.WriteAt(data, 4096)
	require.NoError(t, err)
	before := d.Stats()
	p := make([]byte, len(data)-3)
	var pieces []int
	n, err := d.ReadAtPieces(p, 4096+3, func(filled int) {
		require.Equal(t, data[3:3+filled], p[:filled])
		pieces = append(pieces, filled)
	})
	require.NoError(t, err)
	require.Equal(t, len(p), n)
	require.Equal(t, []int{64 << 10, 128 << 10, 192 << 10, len(p)}, pieces)
	s := d.Stats().Sub(before)
	require.Equal(t, int64(1), s.Reads)
	require.Equal(t, int64(len(p)), s.BytesRead)
}

func TestClose(t *testing.T) {
	d, k := open(t, mtdfake.NOR("flash1", 1<<20, 4<<10))
	require.Equal(t, 1, k.OpenFDs())
	require.NoError(t, d.Close())
	require.Equal(t, 0, k.OpenFDs())
	require.NoError(t, d.Close(), "closing twice is not an error")
	require.Equal(t, 0, k.OpenFDs())
	_, err := d.ReadAt(make([]byte, 1), 0)
	require.ErrorIs(t, err, hal.ErrClosed)
	_, err = d.IsBad(0)
	require.ErrorIs(t, err, hal.ErrClosed)
	require.Equal(t, "flash1", d.Geometry().Name, "geometry survives Close")
}

// FuzzOpen feeds OpenWith arbitrary MEMGETINFO answers: it either refuses
// the device with an *hal.OpError or returns a valid geometry that the
// device then serves at its last byte.
func FuzzOpen(f *testing.F) {
	f.Add(uint8(unix.MTD_NORFLASH), uint32(unix.MTD_WRITEABLE), uint64(128<<20), uint32(4096), uint32(1), uint8(0), false)
	f.Add(uint8(unix.MTD_NANDFLASH), uint32(unix.MTD_WRITEABLE), uint64(64<<20), uint32(128<<10), uint32(2048), uint8(0), false)
	f.Add(uint8(unix.MTD_NORFLASH), uint32(unix.MTD_WRITEABLE), uint64(8<<30), uint32(64<<10), uint32(1), uint8(0), true)
	f.Add(uint8(unix.MTD_DATAFLASH), uint32(unix.MTD_WRITEABLE), uint64(4<<20), uint32(528), uint32(528), uint8(0), false)
	f.Add(uint8(unix.MTD_RAM), uint32(unix.MTD_WRITEABLE|unix.MTD_NO_ERASE), uint64(1<<20), uint32(4096), uint32(1), uint8(2), false)
	f.Fuzz(func(t *testing.T, typ uint8, flags uint32, size uint64, erase, write uint32, regions uint8, noSysfs bool) {
		chip := mtdfake.Chip{Name: "fuzz", Type: typ, Flags: flags, Size: int64(size & (1<<44 - 1)),
			EraseSize: int64(erase), WriteSize: int64(write), Regions: int(regions), NoSysfs: noSysfs}
		k := mtdfake.New()
		path := k.Add(chip)
		d, err := mtd.OpenWith(path, k)
		if err != nil {
			var oe *hal.OpError
			if !errors.As(err, &oe) || oe.Op != "open" {
				t.Fatalf("refusal %v is not an open *hal.OpError", err)
			}
			if k.OpenFDs() != 0 {
				t.Fatal("refused device left open")
			}
			return
		}
		defer d.Close()
		g := d.Geometry()
		if err := g.Validate(); err != nil {
			t.Fatalf("accepted an invalid geometry: %v", err)
		}
		if want := map[bool]int64{false: chip.Size, true: int64(uint32(chip.Size))}[noSysfs]; g.Size != want {
			t.Fatalf("size %d, want %d", g.Size, want)
		}
		if err := d.Erase(g.Size-g.EraseSize, g.EraseSize); err != nil {
			t.Fatalf("erase of the last block: %v", err)
		}
		last := make([]byte, 1)
		if _, err := d.ReadAt(last, g.Size-1); err != nil || last[0] != 0xFF {
			t.Fatalf("read of the last byte: %v %x", err, last)
		}
	})
}

func TestConcurrentUse(t *testing.T) {
	d, k := open(t, mtdfake.NOR("flash1", 1<<20, 4<<10))
	done := make(chan error, 8)
	for g := range 8 {
		go func() {
			off := int64(g) * 4096
			if err := d.Erase(off, 4096); err != nil {
				done <- err
				return
			}
			for i := range 64 {
				if _, err := d.WriteAt([]byte{byte(g), byte(i)}, off+int64(2*i)); err != nil {
					done <- err
					return
				}
				if _, err := d.ReadAt(make([]byte, 2), off); err != nil {
					done <- err
					return
				}
				_ = d.Stats()
			}
			done <- nil
		}()
	}
	for range 8 {
		require.NoError(t, <-done)
	}
	for g := range 8 {
		require.Equal(t, []byte{byte(g), 63}, k.Contents(0, int64(g)*4096+126, 2))
	}
	s := d.Stats()
	require.Equal(t, int64(8*64), s.Programs)
	require.Equal(t, int64(8*64), s.Reads)
	require.Equal(t, int64(8), s.Erases)
}

// TestOpenReadOnly: OpenReadOnlyWith opens with O_RDONLY, reads what
// OpenWith reads (data, geometry, bad blocks: MEMGETINFO and
// MEMGETBADBLOCK answer on a read-only descriptor), and refuses writes,
// erases and bad-block marks with ErrReadOnly before any system call.
func TestOpenReadOnly(t *testing.T) {
	for _, tc := range []struct {
		name string
		chip mtdfake.Chip
	}{
		{"nor", mtdfake.NOR("flash1", 1<<20, 4<<10)},
		{"nand", mtdfake.NAND("nand0", 2<<20, 128<<10, 2048)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := mtdfake.New()
			path := k.Add(tc.chip)
			k.Poke(0, 0x1000, []byte("cmcsync"))
			k.SetBad(0, 3)
			rw, err := mtd.OpenWith(path, k)
			require.NoError(t, err)
			want := rw.Geometry()
			require.NoError(t, rw.Close())
			k.ResetCalls()

			d, err := mtd.OpenReadOnlyWith(path, k)
			require.NoError(t, err)
			defer d.Close()
			require.Equal(t, "open "+path+" read-only", k.Calls()[0])
			require.Equal(t, want, d.Geometry())
			buf := make([]byte, 7)
			_, err = d.ReadAt(buf, 0x1000)
			require.NoError(t, err)
			require.Equal(t, "cmcsync", string(buf))
			bad, err := d.IsBad(3 * tc.chip.EraseSize)
			require.NoError(t, err)
			require.Equal(t, tc.chip.Type == unix.MTD_NANDFLASH, bad)

			k.ResetCalls()
			ws := want.WriteSize
			_, werr := d.WriteAt(make([]byte, ws), 0)
			eerr := d.Erase(0, want.EraseSize)
			merr := d.MarkBad(0)
			for op, err := range map[string]error{"program": werr, "erase": eerr, "markbad": merr} {
				require.ErrorIs(t, err, mtd.ErrReadOnly, op)
				require.ErrorIs(t, err, hal.ErrUnsupported, op)
				var oe *hal.OpError
				require.ErrorAs(t, err, &oe, op)
				require.Equal(t, op, oe.Op)
				require.ErrorContains(t, err, "opened read-only", op)
			}
			require.Empty(t, k.Calls(), "a refused write makes no system call")
			require.Equal(t, []byte("cmcsync"), k.Contents(0, 0x1000, 7))
			bad, err = d.IsBad(0)
			require.NoError(t, err)
			require.False(t, bad, "MarkBad changed nothing")
		})
	}
}

// TestOpenReadOnlyTakesANonWriteableDevice: a partition without
// MTD_WRITEABLE, which OpenWith refuses, opens read-only and reads.
func TestOpenReadOnlyTakesANonWriteableDevice(t *testing.T) {
	k := mtdfake.New()
	c := mtdfake.NOR("ro", 1<<20, 4<<10)
	c.Flags &^= unix.MTD_WRITEABLE
	path := k.Add(c)
	_, err := mtd.OpenWith(path, k)
	require.Error(t, err)
	d, err := mtd.OpenReadOnlyWith(path, k)
	require.NoError(t, err)
	defer d.Close()
	_, err = d.ReadAt(make([]byte, 16), 0)
	require.NoError(t, err)
	require.Equal(t, 1, k.OpenFDs())
}
