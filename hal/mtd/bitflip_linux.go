package mtd

import (
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/cmcsync/cmcsync/hal"
)

// reqWrite is MEMWRITE, _IOWR('M', 24, struct mtd_write_req), and
// mtdOpsRaw MTD_OPS_RAW (include/uapi/mtd/mtd-abi.h).
const (
	reqWrite  = 0xc0304d18
	mtdOpsRaw = 2
)

// mtdWriteReq is struct mtd_write_req.
type mtdWriteReq struct {
	Start, Len, OOBLen, UsrData, UsrOOB uint64
	Mode                                uint8
	_                                   [7]uint8
}

// Bitflip is a bit InjectBitflip cleared in a NAND page.
type Bitflip struct {
	// Off is the byte's offset on the device and Bit the bit (0 = least
	// significant) that now reads 0 in the cells.
	Off int64
	Bit uint
	// Corrected is the device's corrected_bits counter (the kernel's
	// ecc_stats.corrected) before the injection and after the read that
	// checked it.
	CorrectedBefore, CorrectedAfter int64
}

// InjectBitflip flips one bit of the programmed NAND page holding off on
// the MTD character device at path, behind the ECC's back, for test
// harnesses: the first bit that is 1 in the page's data from off on is
// cleared by a raw program (MEMWRITE with MTD_OPS_RAW, no ECC computed: the page's
// stored ECC bytes stay those of the old data, and a page program can only
// clear bits). The next ECC read of the page corrects it: it returns the
// old data and the kernel counts a corrected bit (sysfs corrected_bits,
// ecc_stats.corrected; MTD's read returns -EUCLEAN inside the kernel,
// which the character device does not pass on). InjectBitflip checks that:
// it reads the page back and fails unless the data are the old ones and
// the counter went up.
func InjectBitflip(path string, off int64) (Bitflip, error) {
	d, err := Open(path)
	if err != nil {
		return Bitflip{}, err
	}
	defer d.Close()
	g := d.Geometry()
	if g.Kind != hal.NAND {
		return Bitflip{}, fmt.Errorf("inject a bit flip on %s: %w: the device is %s (ECC bit flips are a NAND thing)", path, hal.ErrUnsupported, g.Kind)
	}
	page := off / g.PageSize * g.PageSize
	old := make([]byte, g.PageSize)
	if _, err := d.ReadAt(old, page); err != nil {
		return Bitflip{}, fmt.Errorf("inject a bit flip: read the page: %w", err)
	}
	f := Bitflip{Off: -1}
	for i := off - page; i < g.PageSize; i++ {
		if old[i] != 0 {
			f.Off, f.Bit = page+i, uint(bits.TrailingZeros8(old[i]))
			break
		}
	}
	if f.Off < 0 {
		return f, fmt.Errorf("inject a bit flip at %#x on %s: no bit is 1 from there to the end of the page (flip a programmed page)", off, path)
	}
	counter := filepath.Join("/sys/class/mtd", filepath.Base(path), "corrected_bits")
	if f.CorrectedBefore, err = readCounter(counter); err != nil {
		return f, err
	}
	// The page and its out-of-band bytes all 0xFF (which a program
	// leaves as they are) but the one bit: the ECC bytes stay the old
	// data's.
	raw := make([]byte, g.PageSize)
	oob := make([]byte, max(d.Info().OOBSize, 1))
	for i := range raw {
		raw[i] = 0xFF
	}
	for i := range oob {
		oob[i] = 0xFF
	}
	raw[f.Off-page] &^= 1 << f.Bit
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return f, fmt.Errorf("inject a bit flip: open %s: %w", path, err)
	}
	defer unix.Close(fd)
	req := mtdWriteReq{Start: uint64(page), Len: uint64(len(raw)), OOBLen: uint64(d.Info().OOBSize),
		UsrData: uint64(uintptr(unsafe.Pointer(&raw[0]))), UsrOOB: uint64(uintptr(unsafe.Pointer(&oob[0]))), Mode: mtdOpsRaw}
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), reqWrite, uintptr(unsafe.Pointer(&req)))
	runtime.KeepAlive(raw)
	runtime.KeepAlive(oob)
	if errno != 0 {
		return f, fmt.Errorf("inject a bit flip: raw program (MEMWRITE) of page %#x on %s: %w", page, path, errno)
	}
	got := make([]byte, g.PageSize)
	if _, err := d.ReadAt(got, page); err != nil {
		return f, fmt.Errorf("inject a bit flip: read back page %#x: %w", page, err)
	}
	if f.CorrectedAfter, err = readCounter(counter); err != nil {
		return f, err
	}
	if string(got) != string(old) {
		return f, fmt.Errorf("inject a bit flip at %#x bit %d on %s: the ECC read did not correct it", f.Off, f.Bit, path)
	}
	if f.CorrectedAfter <= f.CorrectedBefore {
		return f, fmt.Errorf("inject a bit flip at %#x bit %d on %s: the kernel reported no corrected bit (corrected_bits %d)", f.Off, f.Bit, path, f.CorrectedAfter)
	}
	return f, nil
}

func readCounter(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read the kernel's ECC counter: %w", err)
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}
