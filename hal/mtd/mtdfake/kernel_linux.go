package mtdfake

import (
	"encoding/binary"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Chip describes a fake MTD device.
type Chip struct {
	Name      string // sysfs name, e.g. "flash1"
	Type      uint8  // unix.MTD_NORFLASH, unix.MTD_NANDFLASH, ...
	Flags     uint32 // unix.MTD_WRITEABLE, ...
	Size      int64
	EraseSize int64
	WriteSize int64
	OOBSize   int64
	Regions   int  // MEMGETREGIONCOUNT's answer
	NoSysfs   bool // the device has no /sys/class/mtd entry
	// Sysfs overrides attributes of /sys/class/mtd/mtdN (without the
	// trailing newline), to fake a kernel whose sysfs disagrees.
	Sysfs map[string]string
}

// NOR returns a writeable NOR chip (write size 1).
func NOR(name string, size, eraseSize int64) Chip {
	return Chip{Name: name, Type: unix.MTD_NORFLASH, Flags: unix.MTD_WRITEABLE | unix.MTD_BIT_WRITEABLE,
		Size: size, EraseSize: eraseSize, WriteSize: 1}
}

// NAND returns a writeable NAND chip.
func NAND(name string, size, eraseSize, pageSize int64) Chip {
	return Chip{Name: name, Type: unix.MTD_NANDFLASH, Flags: unix.MTD_WRITEABLE,
		Size: size, EraseSize: eraseSize, WriteSize: pageSize, OOBSize: pageSize / 32}
}

// Call names a system call for [Kernel.FailNext] and [Kernel.Calls].
type Call string

// The calls a Kernel serves. Ioctls are named by their request.
const (
	CallOpen           Call = "open"
	CallPread          Call = "pread"
	CallPwrite         Call = "pwrite"
	CallClose          Call = "close"
	CallMEMGETINFO     Call = "MEMGETINFO"
	CallMEMERASE64     Call = "MEMERASE64"
	CallMEMGETBADBLOCK Call = "MEMGETBADBLOCK"
	CallMEMSETBADBLOCK Call = "MEMSETBADBLOCK"
)

type device struct {
	chip   Chip
	blocks map[int64][]byte // by block index; a missing block is erased
	bad    map[int64]bool   // by block index
}

// at returns block b's bytes, allocating an erased block if it has none.
func (d *device) at(b int64) []byte {
	blk, ok := d.blocks[b]
	if !ok {
		blk = make([]byte, d.chip.EraseSize)
		for i := range blk {
			blk[i] = 0xFF
		}
		d.blocks[b] = blk
	}
	return blk
}

// copyOut copies the device's bytes at off into p.
func (d *device) copyOut(p []byte, off int64) {
	es := d.chip.EraseSize
	for done := int64(0); done < int64(len(p)); {
		pos := off + done
		blk, ok := d.blocks[pos/es]
		n := min(es-pos%es, int64(len(p))-done)
		if ok {
			copy(p[done:done+n], blk[pos%es:])
		} else {
			for i := done; i < done+n; i++ {
				p[i] = 0xFF
			}
		}
		done += n
	}
}

// Kernel is a fake kernel with MTD devices /dev/mtd0, /dev/mtd1, ... It is
// safe for concurrent use.
type Kernel struct {
	mu    sync.Mutex
	devs  []*device
	fds   map[int]int  // fd -> device index
	ro    map[int]bool // fds opened O_RDONLY
	next  int
	fail  map[Call][]unix.Errno
	calls []string
}

// New returns a kernel without devices.
func New() *Kernel {
	return &Kernel{fds: map[int]int{}, ro: map[int]bool{}, next: 3, fail: map[Call][]unix.Errno{}}
}

// Add creates a device, erased (all 0xFF), and returns its path "/dev/mtdN".
// Memory is allocated per erase block on first write, so large chips are
// cheap. The chip's EraseSize must be positive.
func (k *Kernel) Add(c Chip) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.devs = append(k.devs, &device{chip: c, blocks: map[int64][]byte{}, bad: map[int64]bool{}})
	return fmt.Sprintf("/dev/mtd%d", len(k.devs)-1)
}

// Contents returns a copy of n bytes at off of device index.
func (k *Kernel) Contents(index int, off, n int64) []byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	p := make([]byte, n)
	k.devs[index].copyOut(p, off)
	return p
}

// Poke sets raw bytes of device index, with no flash rules.
func (k *Kernel) Poke(index int, off int64, p []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	d := k.devs[index]
	for i, c := range p {
		pos := off + int64(i)
		d.at(pos / d.chip.EraseSize)[pos%d.chip.EraseSize] = c
	}
}

// SetBad marks block (an erase-block index) of device index bad, as a
// factory bad block would be.
func (k *Kernel) SetBad(index int, block int64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.devs[index].bad[block] = true
}

// FailNext makes the next call c (on any device) fail with errno, without
// doing anything. Several calls queue up.
func (k *Kernel) FailNext(c Call, errno unix.Errno) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.fail[c] = append(k.fail[c], errno)
}

// Calls returns the log of the calls made so far, one line each, e.g.
// "MEMERASE64 fd=3 start=0x1000 len=0x1000".
func (k *Kernel) Calls() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.calls...)
}

// ResetCalls empties the call log.
func (k *Kernel) ResetCalls() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls = nil
}

// OpenFDs returns the number of open file descriptors.
func (k *Kernel) OpenFDs() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.fds)
}

func (k *Kernel) logf(format string, a ...any) { k.calls = append(k.calls, fmt.Sprintf(format, a...)) }

// injected pops a queued failure for c.
func (k *Kernel) injected(c Call) (unix.Errno, bool) {
	q := k.fail[c]
	if len(q) == 0 {
		return 0, false
	}
	k.fail[c] = q[1:]
	return q[0], true
}

func (k *Kernel) dev(fd int) (*device, int, error) {
	i, ok := k.fds[fd]
	if !ok {
		return nil, 0, unix.EBADF
	}
	return k.devs[i], i, nil
}

// Open opens "/dev/mtdN". Opening for writing a device without
// MTD_WRITEABLE fails with EACCES, as mtdchar_open does. A descriptor
// opened O_RDONLY (logged "open PATH read-only") refuses pwrite with EBADF,
// as the VFS does, and MEMERASE64 and MEMSETBADBLOCK with EPERM, as
// mtdchar_ioctl does without FMODE_WRITE.
func (k *Kernel) Open(path string, flags int) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	readOnly := flags&unix.O_ACCMODE == unix.O_RDONLY
	if readOnly {
		k.logf("open %s read-only", path)
	} else {
		k.logf("open %s", path)
	}
	if e, ok := k.injected(CallOpen); ok {
		return -1, e
	}
	i, ok := k.index(path, "/dev/mtd")
	if !ok {
		return -1, unix.ENOENT
	}
	if flags&unix.O_ACCMODE != unix.O_RDONLY && k.devs[i].chip.Flags&unix.MTD_WRITEABLE == 0 {
		return -1, unix.EACCES
	}
	fd := k.next
	k.next++
	k.fds[fd] = i
	if readOnly {
		k.ro[fd] = true
	}
	return fd, nil
}

func (k *Kernel) index(s, prefix string) (int, bool) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(rest)
	if err != nil || i < 0 || i >= len(k.devs) || strconv.Itoa(i) != rest {
		return 0, false
	}
	return i, true
}

// Close closes fd.
func (k *Kernel) Close(fd int) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.logf("close fd=%d", fd)
	if e, ok := k.injected(CallClose); ok {
		return e
	}
	if _, ok := k.fds[fd]; !ok {
		return unix.EBADF
	}
	delete(k.fds, fd)
	delete(k.ro, fd)
	return nil
}

// Stat answers a character device, major 90, minor 2N.
func (k *Kernel) Stat(fd int) (uint32, uint64, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, i, err := k.dev(fd)
	if err != nil {
		return 0, 0, err
	}
	return unix.S_IFCHR | 0o600, unix.Mkdev(90, uint32(2*i)), nil
}

// ioctlSize is _IOC_SIZE(req) on the architectures Go supports for Linux
// with the generic ioctl encoding (14 size bits at bit 16).
func ioctlSize(req uint) int { return int(req>>16) & 0x3fff }

// Ioctl serves the MTD requests of mtdchar_ioctl.
func (k *Kernel) Ioctl(fd int, req uint, arg []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	d, _, err := k.dev(fd)
	if err != nil {
		k.logf("ioctl fd=%d req=%#x: EBADF", fd, req)
		return -1, err
	}
	if len(arg) != ioctlSize(req) {
		k.logf("ioctl fd=%d req=%#x: %d-byte argument, want %d", fd, req, len(arg), ioctlSize(req))
		return -1, unix.EFAULT
	}
	ne := binary.NativeEndian
	c := d.chip
	switch req {
	case unix.MEMGETINFO:
		k.logf("MEMGETINFO fd=%d", fd)
		if e, ok := k.injected(CallMEMGETINFO); ok {
			return -1, e
		}
		clear(arg)
		arg[0] = c.Type
		ne.PutUint32(arg[4:], c.Flags)
		ne.PutUint32(arg[8:], uint32(c.Size)) // truncated above 4 GiB, as in the kernel
		ne.PutUint32(arg[12:], uint32(c.EraseSize))
		ne.PutUint32(arg[16:], uint32(c.WriteSize))
		ne.PutUint32(arg[20:], uint32(c.OOBSize))
		return 0, nil
	case unix.MEMGETREGIONCOUNT:
		k.logf("MEMGETREGIONCOUNT fd=%d", fd)
		ne.PutUint32(arg, uint32(c.Regions))
		return 0, nil
	case unix.MEMERASE64:
		start, length := int64(ne.Uint64(arg[0:])), int64(ne.Uint64(arg[8:]))
		k.logf("MEMERASE64 fd=%d start=%#x len=%#x", fd, start, length)
		if e, ok := k.injected(CallMEMERASE64); ok {
			return -1, e
		}
		if k.ro[fd] {
			return -1, unix.EPERM
		}
		if c.Flags&unix.MTD_WRITEABLE == 0 {
			return -1, unix.EROFS
		}
		if length == 0 {
			return 0, nil // mtd_erase: nothing to do
		}
		if start < 0 || length < 0 || start >= c.Size || length > c.Size-start ||
			start%c.EraseSize != 0 || length%c.EraseSize != 0 {
			return -1, unix.EINVAL
		}
		for off := start; off < start+length; off += c.EraseSize {
			if d.bad[off/c.EraseSize] {
				return -1, unix.EIO // nand_erase_nand: attempt to erase a bad block
			}
			delete(d.blocks, off/c.EraseSize)
		}
		return 0, nil
	case unix.MEMGETBADBLOCK:
		off := int64(ne.Uint64(arg))
		k.logf("MEMGETBADBLOCK fd=%d off=%#x", fd, off)
		if e, ok := k.injected(CallMEMGETBADBLOCK); ok {
			return -1, e
		}
		if off < 0 || off >= c.Size {
			return -1, unix.EINVAL
		}
		if !isNAND(c) {
			return 0, nil // no _block_isbad: never bad
		}
		if d.bad[off/c.EraseSize] {
			return 1, nil
		}
		return 0, nil
	case unix.MEMSETBADBLOCK:
		off := int64(ne.Uint64(arg))
		k.logf("MEMSETBADBLOCK fd=%d off=%#x", fd, off)
		if e, ok := k.injected(CallMEMSETBADBLOCK); ok {
			return -1, e
		}
		if k.ro[fd] {
			return -1, unix.EPERM
		}
		if c.Flags&unix.MTD_WRITEABLE == 0 {
			return -1, unix.EROFS
		}
		if off < 0 || off >= c.Size {
			return -1, unix.EINVAL
		}
		if !isNAND(c) {
			return -1, unix.EOPNOTSUPP
		}
		d.bad[off/c.EraseSize] = true
		return 0, nil
	}
	k.logf("ioctl fd=%d req=%#x: ENOTTY", fd, req)
	return -1, unix.ENOTTY
}

func isNAND(c Chip) bool { return c.Type == unix.MTD_NANDFLASH || c.Type == unix.MTD_MLCNANDFLASH }

// Pread reads like mtdchar_read: short at the end of the device, 0 past it.
func (k *Kernel) Pread(fd int, p []byte, off int64) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.logf("pread fd=%d off=%#x len=%#x", fd, off, len(p))
	d, _, err := k.dev(fd)
	if err != nil {
		return -1, err
	}
	if e, ok := k.injected(CallPread); ok {
		return -1, e
	}
	if off < 0 {
		return -1, unix.EINVAL
	}
	if off >= d.chip.Size {
		return 0, nil
	}
	n := min(int64(len(p)), d.chip.Size-off)
	d.copyOut(p[:n], off)
	return int(n), nil
}

// Pwrite writes like mtdchar_write: ENOSPC at or past the end, short at the
// end; NAND needs page-aligned offsets and lengths. The chip programs by AND.
func (k *Kernel) Pwrite(fd int, p []byte, off int64) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.logf("pwrite fd=%d off=%#x len=%#x", fd, off, len(p))
	d, _, err := k.dev(fd)
	if err != nil {
		return -1, err
	}
	if e, ok := k.injected(CallPwrite); ok {
		return -1, e
	}
	if k.ro[fd] {
		return -1, unix.EBADF
	}
	c := d.chip
	if c.Flags&unix.MTD_WRITEABLE == 0 {
		return -1, unix.EROFS
	}
	if off < 0 {
		return -1, unix.EINVAL
	}
	if off >= c.Size {
		return -1, unix.ENOSPC
	}
	n := min(int64(len(p)), c.Size-off)
	if isNAND(c) && (off%c.WriteSize != 0 || n%c.WriteSize != 0) {
		return -1, unix.EINVAL
	}
	for i := int64(0); i < n; i++ {
		pos := off + i
		d.at(pos / c.EraseSize)[pos%c.EraseSize] &= p[i]
	}
	return int(n), nil
}

// ReadFile serves /sys/class/mtd/mtdN/{name,size,erasesize,writesize,type}.
func (k *Kernel) ReadFile(path string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	notExist := &fs.PathError{Op: "open", Path: path, Err: unix.ENOENT}
	dir, attr, ok := strings.Cut(strings.TrimPrefix(path, "/sys/class/mtd/"), "/")
	if !ok || !strings.HasPrefix(path, "/sys/class/mtd/") {
		return nil, notExist
	}
	i, ok := k.index(dir, "mtd")
	if !ok || k.devs[i].chip.NoSysfs {
		return nil, notExist
	}
	c := k.devs[i].chip
	if v, ok := c.Sysfs[attr]; ok {
		return []byte(v + "\n"), nil
	}
	var v string
	switch attr {
	case "name":
		v = c.Name
	case "size":
		v = strconv.FormatInt(c.Size, 10)
	case "erasesize":
		v = strconv.FormatInt(c.EraseSize, 10)
	case "writesize":
		v = strconv.FormatInt(c.WriteSize, 10)
	case "oobsize":
		v = strconv.FormatInt(c.OOBSize, 10)
	case "type":
		v = map[uint8]string{unix.MTD_RAM: "ram", unix.MTD_ROM: "rom", unix.MTD_NORFLASH: "nor",
			unix.MTD_NANDFLASH: "nand", unix.MTD_DATAFLASH: "dataflash", unix.MTD_UBIVOLUME: "ubi",
			unix.MTD_MLCNANDFLASH: "mlc-nand"}[c.Type]
	default:
		return nil, notExist
	}
	return []byte(v + "\n"), nil
}
