package hal

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error a backend returns wraps one of these (inside an
// *OpError), so callers branch with errors.Is.
var (
	// ErrUnaligned: an offset or length is not a multiple of the write or
	// erase size. Nothing was changed.
	ErrUnaligned = errors.New("unaligned")
	// ErrOutOfRange: the range is negative or crosses the end of the device.
	// Nothing was changed.
	ErrOutOfRange = errors.New("out of range")
	// ErrBadBlock: the erase block is marked bad.
	ErrBadBlock = errors.New("bad block")
	// ErrWornOut: the erase block passed its endurance limit and failed.
	ErrWornOut = errors.New("erase block worn out")
	// ErrMedia: the device reported a read, program or erase failure (an
	// uncorrectable ECC error, a program or erase status failure).
	ErrMedia = errors.New("media error")
	// ErrPowerLoss: the device lost power. The operation may be partly done;
	// no later operation succeeds until the device is restarted.
	ErrPowerLoss = errors.New("power lost")
	// ErrTimeout: the device did not answer in time.
	ErrTimeout = errors.New("no response")
	// ErrNAND: a NAND rule was broken (a partial page, a page programmed twice
	// or out of order).
	ErrNAND = errors.New("nand programming rule broken")
	// ErrInjected marks a fault injected by a test harness; it is wrapped
	// together with the sentinel of the fault it imitates.
	ErrInjected = errors.New("injected fault")
	// ErrClosed: the device was closed.
	ErrClosed = errors.New("device closed")
	// ErrUnsupported: the device cannot do this. It is errors.ErrUnsupported.
	ErrUnsupported = errors.ErrUnsupported
)

// OpError is the error every flash operation returns: which operation, on
// which device, at which range, and why.
type OpError struct {
	Op  string // "read", "program", "erase", "isbad", "markbad", "open", ...
	Dev string // device name, e.g. "flash1" or "/dev/mtd6"
	Off int64  // offset of the operation
	Len int64  // length of the operation, 0 if none
	Err error  // the cause; wraps a sentinel of this package
}

// Error formats as "program flash1 [0x1000+0x100]: unaligned".
func (e *OpError) Error() string {
	s := e.Op
	if e.Dev != "" {
		s += " " + e.Dev
	}
	if e.Len > 0 {
		s += fmt.Sprintf(" [%#x+%#x]", e.Off, e.Len)
	} else {
		s += fmt.Sprintf(" [%#x]", e.Off)
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *OpError) Unwrap() error { return e.Err }

// CheckRange returns an *OpError wrapping ErrOutOfRange unless 0 <= off and
// off+n <= g.Size (n >= 0).
func CheckRange(g Geometry, op string, off, n int64) error {
	if off < 0 || n < 0 || off > g.Size || n > g.Size-off {
		return &OpError{Op: op, Dev: g.Name, Off: off, Len: n,
			Err: fmt.Errorf("%w: device is %#x bytes", ErrOutOfRange, g.Size)}
	}
	return nil
}

// CheckProgram validates a WriteAt of n bytes at off: range, then alignment
// to the write size.
func CheckProgram(g Geometry, off, n int64) error {
	if err := CheckRange(g, "program", off, n); err != nil {
		return err
	}
	if off%g.WriteSize != 0 || n%g.WriteSize != 0 {
		return &OpError{Op: "program", Dev: g.Name, Off: off, Len: n,
			Err: fmt.Errorf("%w: offset and length must be multiples of the write size %d", ErrUnaligned, g.WriteSize)}
	}
	return nil
}

// CheckErase validates an Erase of n bytes at off: n > 0, range, then
// alignment to the erase size.
func CheckErase(g Geometry, off, n int64) error {
	if err := CheckRange(g, "erase", off, n); err != nil {
		return err
	}
	if n <= 0 || off%g.EraseSize != 0 || n%g.EraseSize != 0 {
		return &OpError{Op: "erase", Dev: g.Name, Off: off, Len: n,
			Err: fmt.Errorf("%w: offset and length must be positive multiples of the erase size %d", ErrUnaligned, g.EraseSize)}
	}
	return nil
}
