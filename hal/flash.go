package hal

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"time"
)

// Kind is the flash technology, which decides the programming rules.
type Kind uint8

const (
	// NOR flash: any byte range may be programmed, any number of times, and a
	// program can only clear bits (the result is old AND new).
	NOR Kind = iota + 1
	// NAND flash: pages are programmed whole, once per erase, in order within
	// an erase block; blocks may be bad.
	NAND
)

// String returns "nor" or "nand".
func (k Kind) String() string {
	switch k {
	case NOR:
		return "nor"
	case NAND:
		return "nand"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseKind parses "nor" or "nand" (any case).
func ParseKind(s string) (Kind, error) {
	switch strings.ToLower(s) {
	case "nor":
		return NOR, nil
	case "nand":
		return NAND, nil
	}
	return 0, fmt.Errorf("unknown flash kind %q (want nor or nand)", s)
}

// Geometry describes a flash device. All sizes are in bytes.
type Geometry struct {
	// Name identifies the device for messages (an MTD name, a part name).
	Name string
	// Kind is NOR or NAND.
	Kind Kind
	// Size is the device size; a multiple of EraseSize.
	Size int64
	// EraseSize is the erase block size, a power of two: Erase takes whole,
	// aligned blocks.
	EraseSize int64
	// WriteSize is the smallest unit a program may address: 1 for NOR, the
	// page size for NAND. WriteAt offsets and lengths are multiples of it.
	WriteSize int64
	// PageSize is the device's program page (256 for SPI NOR): one program
	// command covers at most one page, so it is the unit timing is charged in.
	PageSize int64
}

// Blocks returns the number of erase blocks.
func (g Geometry) Blocks() int64 {
	if g.EraseSize <= 0 {
		return 0
	}
	return g.Size / g.EraseSize
}

// Validate reports whether g is self-consistent: positive sizes, powers of
// two, Size a multiple of EraseSize, EraseSize a multiple of WriteSize and
// PageSize.
func (g Geometry) Validate() error {
	pow2 := func(v int64) bool { return v > 0 && v&(v-1) == 0 }
	switch {
	case g.Kind != NOR && g.Kind != NAND:
		return fmt.Errorf("geometry %q: unknown kind %v", g.Name, g.Kind)
	case !pow2(g.EraseSize):
		return fmt.Errorf("geometry %q: erase size %d is not a positive power of two", g.Name, g.EraseSize)
	case !pow2(g.WriteSize) || !pow2(g.PageSize):
		return fmt.Errorf("geometry %q: write size %d and page size %d must be positive powers of two", g.Name, g.WriteSize, g.PageSize)
	case g.Size <= 0 || g.Size%g.EraseSize != 0:
		return fmt.Errorf("geometry %q: size %d is not a positive multiple of the erase size %d", g.Name, g.Size, g.EraseSize)
	case g.EraseSize%g.WriteSize != 0 || g.EraseSize%g.PageSize != 0:
		return fmt.Errorf("geometry %q: erase size %d is not a multiple of write size %d and page size %d", g.Name, g.EraseSize, g.WriteSize, g.PageSize)
	}
	return nil
}

// String formats the geometry for humans, e.g. "flash1 nor 128MiB erase=4KiB write=1 page=256".
func (g Geometry) String() string {
	return fmt.Sprintf("%s %v %s erase=%s write=%d page=%d", g.Name, g.Kind, FormatSize(g.Size), FormatSize(g.EraseSize), g.WriteSize, g.PageSize)
}

// Flash is a flash memory device.
//
// ReadAt follows io.ReaderAt: it reads len(p) bytes at off; a read that
// crosses the end of the device is an error wrapping ErrOutOfRange (not
// io.EOF), and so is a negative offset. Reads have no alignment rule.
//
// WriteAt programs p at off. It never erases: on NOR the result is old AND p
// bit by bit, so programming 1 over 0 leaves 0; on NAND whole pages are
// programmed once per erase, in increasing order within a block. off and
// len(p) must be multiples of Geometry().WriteSize (else ErrUnaligned) and
// inside the device (else ErrOutOfRange). A program may cross page and block
// boundaries; backends split it.
//
// Erase sets n bytes at off to 0xFF. off and n must be multiples of
// EraseSize and n > 0 (else ErrUnaligned).
//
// Alignment and range are checked before anything is touched: a rejected
// operation changes nothing. A failure during an operation (a media fault,
// a power loss) may leave the range partly done; callers that care must
// read back. Errors are *OpError values wrapping a sentinel of this package.
//
// Buffers are owned by the caller and not retained after the call returns.
// Implementations are safe for use by one goroutine at a time unless they
// document otherwise.
type Flash interface {
	io.ReaderAt
	io.WriterAt
	Erase(off, n int64) error
	Geometry() Geometry
}

// BadBlocker is implemented by devices with bad-block management (NAND).
type BadBlocker interface {
	// IsBad reports whether the erase block containing off is bad.
	IsBad(off int64) (bool, error)
	// MarkBad marks the erase block containing off bad.
	MarkBad(off int64) error
}

// IsBad reports whether the erase block at off is bad. Devices without bad
// block management never have bad blocks.
func IsBad(f Flash, off int64) (bool, error) {
	if b, ok := f.(BadBlocker); ok {
		return b.IsBad(off)
	}
	g := f.Geometry()
	if off < 0 || off >= g.Size {
		return false, &OpError{Op: "isbad", Dev: g.Name, Off: off, Err: ErrOutOfRange}
	}
	return false, nil
}

// MarkBad marks the erase block at off bad, or returns an error wrapping
// ErrUnsupported when the device has no bad-block management.
func MarkBad(f Flash, off int64) error {
	if b, ok := f.(BadBlocker); ok {
		return b.MarkBad(off)
	}
	return &OpError{Op: "markbad", Dev: f.Geometry().Name, Off: off, Err: ErrUnsupported}
}

// PieceReader is implemented by devices that fill a read's buffer piece by
// piece from memory, as the simulator does: ReadAtPieces is ReadAt (the
// same single operation, with the same checks, errors, statistics and
// timing) that also calls piece(filled) each time p[:filled] holds its
// final contents, filled growing to len(p), so the caller can work on
// each piece while it is still in the CPU's cache. piece runs on the
// caller's goroutine, before ReadAtPieces returns; it must not call the
// device. After an error the pieces seen may be any prefix of p.
type PieceReader interface {
	ReadAtPieces(p []byte, off int64, piece func(filled int)) (int, error)
}

// ReadAtPieces reads len(p) bytes at off like f.ReadAt and calls piece as
// parts of p are filled: piece by piece if f is a PieceReader, else once,
// with len(p), after a ReadAt that succeeded.
func ReadAtPieces(f Flash, p []byte, off int64, piece func(filled int)) (int, error) {
	if r, ok := f.(PieceReader); ok {
		return r.ReadAtPieces(p, off, piece)
	}
	n, err := f.ReadAt(p, off)
	if err == nil {
		piece(len(p))
	}
	return n, err
}

// Close closes f if it is an io.Closer; otherwise it does nothing.
func Close(f Flash) error {
	if c, ok := f.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// Stats counts the work a device did. Backends that keep them implement
// Stater; the simulator also charges Elapsed in virtual time.
type Stats struct {
	Reads           int64 // ReadAt calls
	BytesRead       int64
	Programs        int64 // WriteAt calls
	PagesProgrammed int64 // program pages touched (partial pages count whole)
	BytesProgrammed int64
	Erases          int64 // erase blocks erased
	// Elapsed is the device time the work took: virtual, datasheet-based time
	// on the simulator, wall time on real devices.
	Elapsed time.Duration
}

// Sub returns s - o, field by field: the work done between two snapshots.
func (s Stats) Sub(o Stats) Stats {
	return Stats{
		Reads:           s.Reads - o.Reads,
		BytesRead:       s.BytesRead - o.BytesRead,
		Programs:        s.Programs - o.Programs,
		PagesProgrammed: s.PagesProgrammed - o.PagesProgrammed,
		BytesProgrammed: s.BytesProgrammed - o.BytesProgrammed,
		Erases:          s.Erases - o.Erases,
		Elapsed:         s.Elapsed - o.Elapsed,
	}
}

// Add returns s + o, field by field.
func (s Stats) Add(o Stats) Stats {
	return Stats{
		Reads:           s.Reads + o.Reads,
		BytesRead:       s.BytesRead + o.BytesRead,
		Programs:        s.Programs + o.Programs,
		PagesProgrammed: s.PagesProgrammed + o.PagesProgrammed,
		BytesProgrammed: s.BytesProgrammed + o.BytesProgrammed,
		Erases:          s.Erases + o.Erases,
		Elapsed:         s.Elapsed + o.Elapsed,
	}
}

// Stater is implemented by devices that count their work.
type Stater interface {
	Stats() Stats
}

// Wrapper is implemented by a device that wraps another (a fault
// injector, a tracer) and forwards what it asks of it. Unwrap returns the
// wrapped device.
type Wrapper interface {
	Unwrap() Flash
}

// StatsOf returns f's statistics and true, or false if f keeps none. A
// [Wrapper] keeps statistics only if the device it wraps does (its Stats
// forwards them), whatever methods it has.
func StatsOf(f Flash) (Stats, bool) {
	if w, ok := f.(Wrapper); ok {
		if _, keeps := StatsOf(w.Unwrap()); !keeps {
			return Stats{}, false
		}
	}
	if s, ok := f.(Stater); ok {
		return s.Stats(), true
	}
	return Stats{}, false
}

// IsErased reports whether every byte of p is 0xFF, the state erase leaves
// (true for an empty p). It compares 4 KiB runs with a vectorised
// bytes.Equal: purges, scans and benchmarks run it over whole erase blocks.
func IsErased(p []byte) bool {
	for len(p) > len(erasedRun) {
		if !bytes.Equal(p[:len(erasedRun)], erasedRun) {
			return false
		}
		p = p[len(erasedRun):]
	}
	return bytes.Equal(p, erasedRun[:len(p)])
}

// ProgramsOver reports whether programming p over old on NOR (the result is
// old AND p) leaves exactly p: no bit of p is 1 where old is 0, so no erase
// is needed first. old must be at least as long as p. It compares eight
// bytes at a time.
func ProgramsOver(old, p []byte) bool {
	i := 0
	for ; i+8 <= len(p); i += 8 {
		w := binary.LittleEndian.Uint64(p[i:])
		if binary.LittleEndian.Uint64(old[i:])&w != w {
			return false
		}
	}
	for ; i < len(p); i++ {
		if old[i]&p[i] != p[i] {
			return false
		}
	}
	return true
}

// erasedRun is 4 KiB of 0xFF that IsErased compares with (bytes.Equal
// runs vectorised: about twice as fast as a loop over words). Never
// written.
var erasedRun = bytes.Repeat([]byte{0xFF}, 4096)
