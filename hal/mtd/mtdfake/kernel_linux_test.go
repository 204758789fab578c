package mtdfake_test

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/cmcsync/cmcsync/hal/mtd/mtdfake"
)

func u64(v uint64) []byte { return binary.NativeEndian.AppendUint64(nil, v) }

func erase(start, n uint64) []byte { return append(u64(start), u64(n)...) }

func TestKernelSemantics(t *testing.T) {
	k := mtdfake.New()
	nor := k.Add(mtdfake.NOR("flash0", 64<<10, 4<<10))
	nand := k.Add(mtdfake.NAND("nand0", 64<<10, 16<<10, 512))
	norFD, err := k.Open(nor, unix.O_RDWR)
	require.NoError(t, err)
	nandFD, err := k.Open(nand, unix.O_RDWR)
	require.NoError(t, err)
	k.SetBad(1, 1)

	for _, tc := range []struct {
		name    string
		do      func() (int, error)
		wantR   int
		wantErr error
	}{
		{"ioctl with the wrong argument size", func() (int, error) { return k.Ioctl(norFD, unix.MEMGETINFO, make([]byte, 16)) }, -1, unix.EFAULT},
		{"unknown ioctl", func() (int, error) { return k.Ioctl(norFD, unix.MEMGETOOBSEL, make([]byte, 0xc8)) }, -1, unix.ENOTTY},
		{"bad fd", func() (int, error) { return k.Ioctl(99, unix.MEMGETINFO, make([]byte, 32)) }, -1, unix.EBADF},
		{"erase of nothing", func() (int, error) { return k.Ioctl(norFD, unix.MEMERASE64, erase(0, 0)) }, 0, nil},
		{"unaligned erase", func() (int, error) { return k.Ioctl(norFD, unix.MEMERASE64, erase(512, 4096)) }, -1, unix.EINVAL},
		{"erase past the end", func() (int, error) { return k.Ioctl(norFD, unix.MEMERASE64, erase(60<<10, 8<<10)) }, -1, unix.EINVAL},
		{"erase of a bad NAND block", func() (int, error) { return k.Ioctl(nandFD, unix.MEMERASE64, erase(0, 32<<10)) }, -1, unix.EIO},
		{"NOR is never bad", func() (int, error) { return k.Ioctl(norFD, unix.MEMGETBADBLOCK, u64(4096)) }, 0, nil},
		{"bad NAND block", func() (int, error) { return k.Ioctl(nandFD, unix.MEMGETBADBLOCK, u64(16<<10+5)) }, 1, nil},
		{"good NAND block", func() (int, error) { return k.Ioctl(nandFD, unix.MEMGETBADBLOCK, u64(32<<10)) }, 0, nil},
		{"bad-block query past the end", func() (int, error) { return k.Ioctl(nandFD, unix.MEMGETBADBLOCK, u64(64<<10)) }, -1, unix.EINVAL},
		{"mark a NOR block bad", func() (int, error) { return k.Ioctl(norFD, unix.MEMSETBADBLOCK, u64(0)) }, -1, unix.EOPNOTSUPP},
		{"read past the end", func() (int, error) { return k.Pread(norFD, make([]byte, 4), 64<<10) }, 0, nil},
		{"read crossing the end", func() (int, error) { return k.Pread(norFD, make([]byte, 4), 64<<10-1) }, 1, nil},
		{"write at the end", func() (int, error) { return k.Pwrite(norFD, make([]byte, 4), 64<<10) }, -1, unix.ENOSPC},
		{"write crossing the end", func() (int, error) { return k.Pwrite(norFD, make([]byte, 4), 64<<10-1) }, 1, nil},
		{"partial NAND page", func() (int, error) { return k.Pwrite(nandFD, make([]byte, 100), 0) }, -1, unix.EINVAL},
		{"whole NAND page", func() (int, error) { return k.Pwrite(nandFD, make([]byte, 512), 512) }, 512, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tc.do()
			require.Equal(t, tc.wantR, r)
			if tc.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.wantErr)
			}
		})
	}
	// The erase of blocks 0-1 stopped at the bad block 1 after erasing 0,
	// as nand_erase_nand does; the partial NOR write at the end landed.
	require.Equal(t, []byte{0x00}, k.Contents(0, 64<<10-1, 1))
	require.NoError(t, k.Close(norFD))
	require.ErrorIs(t, k.Close(norFD), unix.EBADF)
	_, err = k.Open("/dev/mtd2", unix.O_RDWR)
	require.ErrorIs(t, err, unix.ENOENT)
	_, err = k.Open("/dev/mtd01", unix.O_RDWR)
	require.ErrorIs(t, err, unix.ENOENT)
	_, err = k.ReadFile("/sys/class/mtd/mtd0/bogus")
	require.ErrorIs(t, err, unix.ENOENT)
}

func TestFailNextAndCalls(t *testing.T) {
	k := mtdfake.New()
	fd, err := k.Open(k.Add(mtdfake.NOR("flash0", 64<<10, 4<<10)), unix.O_RDWR)
	require.NoError(t, err)
	k.FailNext(mtdfake.CallPwrite, unix.EIO)
	_, err = k.Pwrite(fd, []byte{0}, 0)
	require.ErrorIs(t, err, unix.EIO)
	require.Equal(t, []byte{0xFF}, k.Contents(0, 0, 1), "a failed call does nothing")
	_, err = k.Pwrite(fd, []byte{0}, 0)
	require.NoError(t, err, "failures are one-shot")
	require.Equal(t, []string{"open /dev/mtd0", "pwrite fd=3 off=0x0 len=0x1", "pwrite fd=3 off=0x0 len=0x1"}, k.Calls())
}

// TestReadOnlyDescriptor: a descriptor opened O_RDONLY refuses pwrite
// (EBADF) and the ioctls that change the chip (EPERM), and serves the
// ones that read.
func TestReadOnlyDescriptor(t *testing.T) {
	k := mtdfake.New()
	path := k.Add(mtdfake.NAND("nand0", 1<<20, 16<<10, 512))
	fd, err := k.Open(path, unix.O_RDONLY)
	require.NoError(t, err)
	_, err = k.Pwrite(fd, make([]byte, 512), 0)
	require.ErrorIs(t, err, unix.EBADF)
	_, err = k.Ioctl(fd, unix.MEMERASE64, make([]byte, 16))
	require.ErrorIs(t, err, unix.EPERM)
	_, err = k.Ioctl(fd, unix.MEMSETBADBLOCK, make([]byte, 8))
	require.ErrorIs(t, err, unix.EPERM)
	_, err = k.Ioctl(fd, unix.MEMGETINFO, make([]byte, 32))
	require.NoError(t, err)
	_, err = k.Ioctl(fd, unix.MEMGETBADBLOCK, make([]byte, 8))
	require.NoError(t, err)
	require.NoError(t, k.Close(fd))
	fd, err = k.Open(path, unix.O_RDWR)
	require.NoError(t, err)
	_, err = k.Pwrite(fd, make([]byte, 512), 0)
	require.NoError(t, err, "the read-only mark went with the closed descriptor")
}
