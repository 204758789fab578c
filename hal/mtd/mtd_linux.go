package mtd

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Open opens the MTD character device at path (e.g. "/dev/mtd6") for reading
// and writing. See [OpenWith] for what it checks.
func Open(path string) (*Device, error) {
	return OpenWith(path, linuxSys{})
}

// OpenReadOnly opens the MTD character device at path for reading only
// (O_RDONLY): the kernel refuses every write through it, and the Device
// refuses WriteAt, Erase and MarkBad itself (ErrReadOnly). See
// [OpenReadOnlyWith].
func OpenReadOnly(path string) (*Device, error) {
	return OpenReadOnlyWith(path, linuxSys{})
}

// linuxSys is the real system-call layer.
type linuxSys struct{}

func (linuxSys) Open(path string, flags int) (int, error) {
	for {
		fd, err := unix.Open(path, flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

func (linuxSys) Close(fd int) error { return unix.Close(fd) }

func (linuxSys) Stat(fd int) (uint32, uint64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, 0, err
	}
	return st.Mode, uint64(st.Rdev), nil //nolint:unconvert // Rdev is uint32 on some architectures
}

func (linuxSys) Ioctl(fd int, req uint, arg []byte) (int, error) {
	var p unsafe.Pointer
	if len(arg) > 0 {
		p = unsafe.Pointer(&arg[0])
	}
	r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(p))
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

func (linuxSys) Pread(fd int, p []byte, off int64) (int, error)  { return unix.Pread(fd, p, off) }
func (linuxSys) Pwrite(fd int, p []byte, off int64) (int, error) { return unix.Pwrite(fd, p, off) }
func (linuxSys) ReadFile(path string) ([]byte, error)            { return os.ReadFile(path) }
