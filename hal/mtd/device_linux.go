package mtd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cmcsync/cmcsync/hal"
)

// Sizes of the kernel structures the ioctls take (include/uapi/mtd/mtd-abi.h).
const (
	mtdInfoSize   = 32 // struct mtd_info_user
	eraseInfoSize = 16 // struct erase_info_user64
	loffSize      = 8  // loff_t
	intSize       = 4  // int
)

// mtdMajor is the character-device major number of /dev/mtdN.
const mtdMajor = 90

// norPageSize is the program page of SPI NOR flash: the unit one program
// command covers.
const norPageSize = 256

// mtdInfo is struct mtd_info_user.
type mtdInfo struct {
	Type      uint8
	Flags     uint32
	Size      uint32
	EraseSize uint32
	WriteSize uint32
	OOBSize   uint32
}

func decodeMtdInfo(b []byte) mtdInfo {
	ne := binary.NativeEndian
	return mtdInfo{
		Type:      b[0],
		Flags:     ne.Uint32(b[4:]),
		Size:      ne.Uint32(b[8:]),
		EraseSize: ne.Uint32(b[12:]),
		WriteSize: ne.Uint32(b[16:]),
		OOBSize:   ne.Uint32(b[20:]),
	}
}

// Device is an open MTD character device. It implements hal.Flash,
// hal.BadBlocker, hal.Stater and io.Closer.
//
// A Device is safe for concurrent use; its operations are serialised.
// Buffers passed to ReadAt and WriteAt are not retained.
type Device struct {
	sys  Sys
	fd   int
	geo  hal.Geometry
	info Info

	// readOnly: opened with O_RDONLY (OpenReadOnlyWith); writes, erases
	// and bad-block marks fail with ErrReadOnly.
	readOnly bool

	mu      sync.Mutex
	closed  bool
	stats   hal.Stats
	scratch []byte
}

// OpenWith opens the MTD character device at path through sys.
//
// It checks that path is an MTD character device (major 90, the read-write
// node), reads MEMGETINFO and the sysfs attributes of /sys/class/mtd/mtdN
// (name, size, erasesize, writesize, type; without sysfs the name is the
// path's base name and the size MEMGETINFO's 32-bit one), and refuses a
// device the HAL cannot use with an error wrapping hal.ErrUnsupported.
// Every error is an *hal.OpError with Op "open".
func OpenWith(path string, sys Sys) (*Device, error) {
	return openWith(path, sys, false)
}

// OpenReadOnlyWith opens the MTD character device at path through sys for
// reading only: open(2) with O_RDONLY, so that the kernel itself refuses
// any write through the descriptor. MEMGETINFO, MEMGETREGIONCOUNT and
// MEMGETBADBLOCK, all it asks, are served on a read-only descriptor
// (mtdchar_ioctl requires FMODE_WRITE only of the requests that change the
// chip). It checks what [OpenWith] checks, except that it also takes the
// read-only node /dev/mtdNro and a device without MTD_WRITEABLE: reading
// them is what they are for. WriteAt, Erase and MarkBad fail with an
// *hal.OpError wrapping ErrReadOnly (and hal.ErrUnsupported) and make no
// system call.
func OpenReadOnlyWith(path string, sys Sys) (*Device, error) {
	return openWith(path, sys, true)
}

func openWith(path string, sys Sys, readOnly bool) (*Device, error) {
	fail := func(err error) (*Device, error) {
		return nil, &hal.OpError{Op: "open", Dev: path, Err: err}
	}
	mode := unix.O_RDWR
	if readOnly {
		mode = unix.O_RDONLY
	}
	fd, err := sys.Open(path, mode|unix.O_CLOEXEC)
	if err != nil {
		switch {
		case errors.Is(err, unix.ENOENT):
			return fail(fmt.Errorf("%w (list the MTD devices with cat /proc/mtd)", err))
		case readOnly && (errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM)):
			return fail(fmt.Errorf("%w (reading the device needs its read permission, or root)", err))
		case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM), errors.Is(err, unix.EROFS):
			return fail(fmt.Errorf("%w (the partition may be read-only, or this needs root)", err))
		}
		return fail(err)
	}
	d, err := newDevice(path, fd, sys, readOnly)
	if err != nil {
		_ = sys.Close(fd)
		return fail(err)
	}
	return d, nil
}

func newDevice(path string, fd int, sys Sys, readOnly bool) (*Device, error) {
	mode, rdev, err := sys.Stat(fd)
	if err != nil {
		return nil, fmt.Errorf("fstat: %w", err)
	}
	if mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(rdev) != mtdMajor {
		return nil, fmt.Errorf("%w: not an MTD character device (want /dev/mtdN, major %d; /dev/mtdblockN is the block device)", hal.ErrUnsupported, mtdMajor)
	}
	minor := unix.Minor(rdev)
	if minor%2 == 1 && !readOnly {
		return nil, fmt.Errorf("%w: /dev/mtd%dro is the read-only node; use /dev/mtd%d", hal.ErrUnsupported, minor/2, minor/2)
	}
	index := int(minor / 2)

	buf := make([]byte, mtdInfoSize)
	if _, err := sys.Ioctl(fd, unix.MEMGETINFO, buf); err != nil {
		return nil, fmt.Errorf("MEMGETINFO: %w", err)
	}
	mi := decodeMtdInfo(buf)

	count := make([]byte, intSize)
	if _, err := sys.Ioctl(fd, unix.MEMGETREGIONCOUNT, count); err != nil {
		return nil, fmt.Errorf("MEMGETREGIONCOUNT: %w", err)
	}
	if n := int32(binary.NativeEndian.Uint32(count)); n > 0 {
		return nil, fmt.Errorf("%w: the device has %d erase regions of different erase sizes; the HAL needs one erase size", hal.ErrUnsupported, n)
	}

	info := Info{Path: path, Index: index, Type: mi.Type, Flags: mi.Flags, OOBSize: int64(mi.OOBSize)}
	g := hal.Geometry{Name: filepath.Base(path), Size: int64(mi.Size), EraseSize: int64(mi.EraseSize), WriteSize: int64(mi.WriteSize)}
	if err := readSysfs(sys, index, mi, &g, &info); err != nil {
		return nil, err
	}

	switch mi.Type {
	case unix.MTD_NORFLASH, unix.MTD_RAM:
		g.Kind = hal.NOR
		g.PageSize = max(norPageSize, g.WriteSize)
		if g.EraseSize > 0 && g.PageSize > g.EraseSize {
			g.PageSize = g.EraseSize
		}
	case unix.MTD_NANDFLASH, unix.MTD_MLCNANDFLASH:
		g.Kind = hal.NAND
		g.PageSize = g.WriteSize
	default:
		return nil, fmt.Errorf("%w: MTD type %d (%s) is not flash the HAL can drive (want nor, nand, mlc-nand or ram)", hal.ErrUnsupported, mi.Type, typeName(mi.Type))
	}
	info.TypeName = typeName(mi.Type)
	if mi.Flags&unix.MTD_WRITEABLE == 0 && !readOnly {
		return nil, fmt.Errorf("%w: the device is read-only (no MTD_WRITEABLE flag)", hal.ErrUnsupported)
	}
	if mi.Flags&unix.MTD_NO_ERASE != 0 {
		return nil, fmt.Errorf("%w: the device cannot erase (MTD_NO_ERASE)", hal.ErrUnsupported)
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("%w: unusable geometry: %w", hal.ErrUnsupported, err)
	}
	return &Device{sys: sys, fd: fd, geo: g, info: info, readOnly: readOnly}, nil
}

// readSysfs fills the name and 64-bit size from /sys/class/mtd/mtdN and
// checks that sysfs and MEMGETINFO describe the same device.
func readSysfs(sys Sys, index int, mi mtdInfo, g *hal.Geometry, info *Info) error {
	dir := fmt.Sprintf("/sys/class/mtd/mtd%d/", index)
	name, err := sys.ReadFile(dir + "name")
	if errors.Is(err, unix.ENOENT) {
		return nil // no sysfs: keep MEMGETINFO's size and the path's name
	}
	if err != nil {
		return fmt.Errorf("sysfs: %w", err)
	}
	num := func(attr string) (int64, error) {
		b, err := sys.ReadFile(dir + attr)
		if err != nil {
			return 0, fmt.Errorf("sysfs: %w", err)
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("sysfs %s%s: %w", dir, attr, err)
		}
		return v, nil
	}
	size, err := num("size")
	if err != nil {
		return err
	}
	erase, err := num("erasesize")
	if err != nil {
		return err
	}
	write, err := num("writesize")
	if err != nil {
		return err
	}
	if uint32(size) != mi.Size || erase != int64(mi.EraseSize) || write != int64(mi.WriteSize) {
		return fmt.Errorf("sysfs %s (size %d, erasesize %d, writesize %d) disagrees with MEMGETINFO (size %d, erasesize %d, writesize %d)",
			dir, size, erase, write, mi.Size, mi.EraseSize, mi.WriteSize)
	}
	if n := strings.TrimSpace(string(name)); n != "" {
		g.Name = n
	}
	g.Size = size
	info.Sysfs = true
	return nil
}

func typeName(t uint8) string {
	switch t {
	case unix.MTD_ABSENT:
		return "absent"
	case unix.MTD_RAM:
		return "ram"
	case unix.MTD_ROM:
		return "rom"
	case unix.MTD_NORFLASH:
		return "nor"
	case unix.MTD_NANDFLASH:
		return "nand"
	case unix.MTD_DATAFLASH:
		return "dataflash"
	case unix.MTD_UBIVOLUME:
		return "ubi"
	case unix.MTD_MLCNANDFLASH:
		return "mlc-nand"
	}
	return "unknown"
}

// Geometry returns the device's geometry. Name is the MTD name (sysfs).
func (d *Device) Geometry() hal.Geometry { return d.geo }

// Info returns what the kernel reported about the device.
func (d *Device) Info() Info { return d.info }

// Stats returns the work done so far; Elapsed is wall time spent in the
// device's system calls.
func (d *Device) Stats() hal.Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats
}

func (d *Device) opError(op string, off, n int64, err error) error {
	return &hal.OpError{Op: op, Dev: d.geo.Name, Off: off, Len: n, Err: err}
}

// kernelError maps an errno to hal's sentinel, keeping the errno in the chain.
func kernelError(err error) error {
	var errno unix.Errno
	if !errors.As(err, &errno) {
		return fmt.Errorf("%w: %w", hal.ErrMedia, err)
	}
	var s error
	switch errno {
	case unix.EIO, unix.EBADMSG, unix.EUCLEAN:
		s = hal.ErrMedia
	case unix.EINVAL:
		s = hal.ErrUnaligned
	case unix.ENOSPC:
		s = hal.ErrOutOfRange
	case unix.EROFS, unix.EACCES, unix.EPERM, unix.EOPNOTSUPP, unix.ENOTTY:
		s = hal.ErrUnsupported
	case unix.ETIMEDOUT:
		s = hal.ErrTimeout
	case unix.EBADF:
		s = hal.ErrClosed
	default:
		s = hal.ErrMedia
	}
	return fmt.Errorf("%w: kernel: %w", s, errno)
}

// ReadAt reads len(p) bytes at off with pread(2). Reads have no alignment
// rule; a range past the end is hal.ErrOutOfRange. On NAND a read touching
// a bad block fails with hal.ErrBadBlock.
func (d *Device) ReadAt(p []byte, off int64) (int, error) {
	return d.ReadAtPieces(p, off, nil)
}

// readPiece is how much ReadAtPieces reads with one pread(2) before it
// hands the piece on: small enough to stay in a BMC's L2 cache.
const readPiece = 64 << 10

// ReadAtPieces is ReadAt (one operation in the statistics) that reads in
// pieces of 64 KiB and calls piece (if not nil) after each (see
// hal.PieceReader), so the caller can work on each piece while it is in
// cache. Without piece it reads with one pread(2).
func (d *Device) ReadAtPieces(p []byte, off int64, piece func(filled int)) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := int64(len(p))
	if d.closed {
		return 0, d.opError("read", off, n, hal.ErrClosed)
	}
	if err := hal.CheckRange(d.geo, "read", off, n); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	start := time.Now()
	defer func() { d.stats.Elapsed += time.Since(start) }()
	if err := d.checkBad("read", off, n); err != nil {
		return 0, err
	}
	step := len(p)
	if piece != nil {
		step = readPiece
	}
	done := 0
	var err error
	for done < len(p) && err == nil {
		var k int
		k, err = d.pread(p[done:min(done+step, len(p))], off+int64(done))
		done += k
		if err == nil && piece != nil {
			piece(done)
		}
	}
	d.stats.Reads++
	d.stats.BytesRead += int64(done)
	if err != nil {
		return done, d.opError("read", off, n, err)
	}
	return done, nil
}

// WriteAt programs p at off with pwrite(2); it never erases. off and len(p)
// must be multiples of the write size. On NAND it first reads the pages and
// refuses (hal.ErrNAND) to program one that is not erased, and refuses bad
// blocks (hal.ErrBadBlock).
func (d *Device) WriteAt(p []byte, off int64) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := int64(len(p))
	if d.closed {
		return 0, d.opError("program", off, n, hal.ErrClosed)
	}
	if d.readOnly {
		return 0, d.opError("program", off, n, ErrReadOnly)
	}
	if err := hal.CheckProgram(d.geo, off, n); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	start := time.Now()
	defer func() { d.stats.Elapsed += time.Since(start) }()
	if d.geo.Kind == hal.NAND {
		if err := d.checkBad("program", off, n); err != nil {
			return 0, err
		}
		if err := d.checkErased(off, n); err != nil {
			return 0, err
		}
	}
	done, err := d.pwrite(p, off)
	d.stats.Programs++
	d.stats.BytesProgrammed += int64(done)
	if done > 0 {
		ps := d.geo.PageSize
		d.stats.PagesProgrammed += (off+int64(done)-1)/ps - off/ps + 1
	}
	if err != nil {
		return done, d.opError("program", off, n, err)
	}
	return done, nil
}

// Erase erases n bytes at off (whole erase blocks) with one MEMERASE64
// ioctl. On NAND it refuses a range with a bad block (hal.ErrBadBlock)
// before erasing anything.
func (d *Device) Erase(off, n int64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return d.opError("erase", off, n, hal.ErrClosed)
	}
	if d.readOnly {
		return d.opError("erase", off, n, ErrReadOnly)
	}
	if err := hal.CheckErase(d.geo, off, n); err != nil {
		return err
	}
	start := time.Now()
	defer func() { d.stats.Elapsed += time.Since(start) }()
	if err := d.checkBad("erase", off, n); err != nil {
		return err
	}
	arg := make([]byte, eraseInfoSize)
	binary.NativeEndian.PutUint64(arg[0:], uint64(off))
	binary.NativeEndian.PutUint64(arg[8:], uint64(n))
	if _, err := d.ioctl(unix.MEMERASE64, arg); err != nil {
		return d.opError("erase", off, n, kernelError(err))
	}
	d.stats.Erases += n / d.geo.EraseSize
	return nil
}

// IsBad reports whether the erase block containing off is bad
// (MEMGETBADBLOCK; the answer is the ioctl's return value). NOR devices
// answer false.
func (d *Device) IsBad(off int64) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return false, d.opError("isbad", off, 0, hal.ErrClosed)
	}
	if err := hal.CheckRange(d.geo, "isbad", off, 1); err != nil {
		return false, err
	}
	bad, err := d.isBad(off)
	if err != nil {
		return false, d.opError("isbad", off, 0, err)
	}
	return bad, nil
}

// MarkBad marks the erase block containing off bad (MEMSETBADBLOCK). This
// is permanent on real NAND. NOR devices answer hal.ErrUnsupported.
func (d *Device) MarkBad(off int64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return d.opError("markbad", off, 0, hal.ErrClosed)
	}
	if d.readOnly {
		return d.opError("markbad", off, 0, ErrReadOnly)
	}
	if err := hal.CheckRange(d.geo, "markbad", off, 1); err != nil {
		return err
	}
	arg := make([]byte, loffSize)
	binary.NativeEndian.PutUint64(arg, uint64(off-off%d.geo.EraseSize))
	if _, err := d.ioctl(unix.MEMSETBADBLOCK, arg); err != nil {
		return d.opError("markbad", off, 0, kernelError(err))
	}
	return nil
}

// Close closes the file descriptor; later operations fail with
// hal.ErrClosed. Closing twice is not an error.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	if err := d.sys.Close(d.fd); err != nil {
		return d.opError("close", 0, 0, kernelError(err))
	}
	return nil
}

// isBad asks the kernel about the block containing off. ENOTSUPP-style
// answers mean the device has no bad blocks.
func (d *Device) isBad(off int64) (bool, error) {
	arg := make([]byte, loffSize)
	binary.NativeEndian.PutUint64(arg, uint64(off-off%d.geo.EraseSize))
	r, err := d.ioctl(unix.MEMGETBADBLOCK, arg)
	switch {
	case errors.Is(err, unix.EOPNOTSUPP):
		return false, nil
	case err != nil:
		return false, kernelError(err)
	}
	return r > 0, nil
}

// checkBad fails with hal.ErrBadBlock when a NAND block in [off, off+n) is
// bad. NOR has no bad blocks and is not asked.
func (d *Device) checkBad(op string, off, n int64) error {
	if d.geo.Kind != hal.NAND {
		return nil
	}
	es := d.geo.EraseSize
	for b := off / es; b <= (off+n-1)/es; b++ {
		bad, err := d.isBad(b * es)
		if err != nil {
			return d.opError(op, off, n, err)
		}
		if bad {
			return d.opError(op, off, n, fmt.Errorf("%w: erase block %d at %#x", hal.ErrBadBlock, b, b*es))
		}
	}
	return nil
}

// checkErased fails with hal.ErrNAND when a page in [off, off+n) is not
// erased (not all 0xFF).
func (d *Device) checkErased(off, n int64) error {
	if int64(cap(d.scratch)) < n {
		d.scratch = make([]byte, n)
	}
	buf := d.scratch[:n]
	if _, err := d.pread(buf, off); err != nil {
		return d.opError("program", off, n, err)
	}
	ps := d.geo.PageSize
	for i, c := range buf {
		if c != 0xFF {
			page := (off + int64(i)) / ps
			return d.opError("program", off, n, fmt.Errorf("%w: page %d at %#x is not erased (a NAND page is programmed once per erase)", hal.ErrNAND, page, page*ps))
		}
	}
	return nil
}

func (d *Device) ioctl(req uint, arg []byte) (int, error) {
	for {
		r, err := d.sys.Ioctl(d.fd, req, arg)
		if err != unix.EINTR {
			return r, err
		}
	}
}

// pread reads all of p at off, retrying short reads; errors are mapped.
func (d *Device) pread(p []byte, off int64) (int, error) {
	done := 0
	for done < len(p) {
		n, err := d.sys.Pread(d.fd, p[done:], off+int64(done))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return done, kernelError(err)
		}
		if n <= 0 {
			return done, fmt.Errorf("%w: %w: kernel returned %d of %d bytes", hal.ErrMedia, io.ErrUnexpectedEOF, done, len(p))
		}
		done += n
	}
	return done, nil
}

// pwrite writes all of p at off, retrying short writes; errors are mapped.
func (d *Device) pwrite(p []byte, off int64) (int, error) {
	done := 0
	for done < len(p) {
		n, err := d.sys.Pwrite(d.fd, p[done:], off+int64(done))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return done, kernelError(err)
		}
		if n <= 0 {
			return done, fmt.Errorf("%w: %w: kernel took %d of %d bytes", hal.ErrMedia, io.ErrShortWrite, done, len(p))
		}
		done += n
	}
	return done, nil
}
