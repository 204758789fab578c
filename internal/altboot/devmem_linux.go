package altboot

import (
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// DevMem maps one page of physical memory through /dev/mem.
type DevMem struct {
	f   *os.File
	mem []byte
}

// OpenDevMem maps the page at physical address base (page aligned). It
// needs root (CAP_SYS_RAWIO) and a kernel that lets /dev/mem reach the
// address (CONFIG_STRICT_DEVMEM allows MMIO ranges not claimed by a
// driver).
func OpenDevMem(base int64) (*DevMem, error) {
	f, err := os.OpenFile("/dev/mem", os.O_RDWR|os.O_SYNC, 0)
	if err != nil {
		return nil, fmt.Errorf("alt-boot: %w (needs root on the BMC)", err)
	}
	page := os.Getpagesize()
	mem, err := syscall.Mmap(int(f.Fd()), base, page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("alt-boot: map %#x from /dev/mem: %w", base, err)
	}
	return &DevMem{f: f, mem: mem}, nil
}

func (d *DevMem) check(off uint32) error {
	if off%4 != 0 || int(off)+4 > len(d.mem) {
		return fmt.Errorf("alt-boot: register offset %#x outside the mapped page", off)
	}
	return nil
}

// reg is the register at off as one 32-bit word: MMIO registers take
// whole-word accesses (a byte-wise copy would write four partial values).
// The BMC's ARM cores are little endian, as the registers are.
func (d *DevMem) reg(off uint32) *uint32 {
	return (*uint32)(unsafe.Pointer(&d.mem[off]))
}

// Read32 reads the register at off.
func (d *DevMem) Read32(off uint32) (uint32, error) {
	if err := d.check(off); err != nil {
		return 0, err
	}
	return atomic.LoadUint32(d.reg(off)), nil
}

// Write32 writes the register at off.
func (d *DevMem) Write32(off, v uint32) error {
	if err := d.check(off); err != nil {
		return err
	}
	atomic.StoreUint32(d.reg(off), v)
	return nil
}

// Close unmaps the page and closes /dev/mem.
func (d *DevMem) Close() error {
	err := syscall.Munmap(d.mem)
	if cerr := d.f.Close(); err == nil {
		err = cerr
	}
	return err
}
