package mtd

// Sys is the system-call layer under a [Device]. The real one (Linux only)
// calls the kernel; tests substitute a fake kernel. Errors are the kernel's
// errno values (syscall.Errno), as the raw system calls return them.
//
// Implementations must be safe for concurrent use.
type Sys interface {
	// Open opens path with open(2) flags and returns a file descriptor.
	Open(path string, flags int) (fd int, err error)
	// Close closes fd.
	Close(fd int) error
	// Stat returns fstat(2)'s st_mode and st_rdev for fd.
	Stat(fd int) (mode uint32, rdev uint64, err error)
	// Ioctl issues request req on fd. arg holds the bytes of the structure
	// the request's argument points to, in the kernel's layout and the
	// host's byte order; its length is the size encoded in req. The kernel
	// reads from and writes to arg. It returns the ioctl's return value.
	Ioctl(fd int, req uint, arg []byte) (int, error)
	// Pread is pread(2).
	Pread(fd int, p []byte, off int64) (int, error)
	// Pwrite is pwrite(2).
	Pwrite(fd int, p []byte, off int64) (int, error)
	// ReadFile returns the contents of a file; the device reads sysfs
	// attributes with it.
	ReadFile(path string) ([]byte, error)
}
