package calibrate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cmcsync/cmcsync/hal"
)

// Refusals of a plan (Plan.Check) and of a scratch range on a device (Run).
var (
	// ErrNoScratch: no scratch range was given. Calibration erases, so it
	// runs only on a range the user names.
	ErrNoScratch = errors.New("no scratch range given")
	// ErrScratchUnaligned: the range does not start and end on erase
	// block boundaries.
	ErrScratchUnaligned = errors.New("scratch range is not aligned to the erase size")
	// ErrScratchOutOfDevice: the range does not lie inside the device.
	ErrScratchOutOfDevice = errors.New("scratch range is outside the device")
	// ErrScratchTooSmall: the range has too few erase blocks for the
	// repetitions (see Plan.MinScratch).
	ErrScratchTooSmall = errors.New("scratch range is too small for the repetitions")
	// ErrScratchBadBlock: a block of the range is bad (NAND).
	ErrScratchBadBlock = errors.New("scratch range holds a bad block")
	// ErrTooFewReps: fewer repetitions than a p10/p90 needs.
	ErrTooFewReps = errors.New("too few repetitions")
)

// Range is a byte range of a device: Size bytes at Off.
type Range struct{ Off, Size int64 }

// End returns Off+Size.
func (r Range) End() int64 { return r.Off + r.Size }

// String formats r as ParseRange reads it: "0x7f00000+1MiB".
func (r Range) String() string { return fmt.Sprintf("%#x+%s", r.Off, hal.FormatSize(r.Size)) }

// ParseRange parses "OFFSET+SIZE". Each is a number of bytes: hexadecimal
// with 0x, or decimal with an optional K, M or G (KiB, MiB, GiB) binary
// suffix; the offset may be 0, the size must be positive. Example:
// "0x7f00000+1M", "127M+1M".
func ParseRange(s string) (Range, error) {
	offText, sizeText, ok := strings.Cut(s, "+")
	if !ok || strings.Contains(sizeText, "+") {
		return Range{}, fmt.Errorf("scratch %q: want OFFSET+SIZE, e.g. 0x7f00000+1M", s)
	}
	off, err := parseBytes(offText, true)
	if err != nil {
		return Range{}, fmt.Errorf("scratch %q: offset: %w", s, err)
	}
	size, err := parseBytes(sizeText, false)
	if err != nil {
		return Range{}, fmt.Errorf("scratch %q: size: %w", s, err)
	}
	if off > hal.MaxParsedSize-size {
		return Range{}, fmt.Errorf("scratch %q: ends beyond %s", s, hal.FormatSize(hal.MaxParsedSize))
	}
	return Range{Off: off, Size: size}, nil
}

// parseBytes parses a hexadecimal (0x) or decimal-with-suffix byte count.
func parseBytes(s string, zeroOK bool) (int64, error) {
	t := strings.TrimSpace(s)
	if hex, ok := strings.CutPrefix(strings.ToLower(t), "0x"); ok {
		n, err := strconv.ParseUint(hex, 16, 63)
		switch {
		case err != nil || hex == "":
			return 0, fmt.Errorf("%q is not a hexadecimal byte count", s)
		case int64(n) > hal.MaxParsedSize:
			return 0, fmt.Errorf("%q is too large (at most %s)", s, hal.FormatSize(hal.MaxParsedSize))
		case n == 0 && !zeroOK:
			return 0, fmt.Errorf("%q: want a positive size", s)
		}
		return int64(n), nil
	}
	if zeroOK && t == "0" {
		return 0, nil
	}
	return hal.ParseSize(t)
}

// Plan is what a calibration measures and where.
type Plan struct {
	// Scratch is the range calibration erases and programs; nothing
	// outside it is read or written. Whole erase blocks.
	Scratch Range
	// Reps is the number of timed repetitions: erases of one erase block,
	// reads of each shape; each erase follows the programming of its
	// block page by page, so there are Reps × pages-per-block timed page
	// programs. At least MinReps.
	Reps int
	// Warmup repetitions run first and are not counted.
	Warmup int
	// BlockReps is the number of timed 64 KiB erases, when the device's
	// erase size is smaller and the scratch holds an aligned 64 KiB
	// window (0: none), after one warm-up erase.
	BlockReps int
	// Seed drives the data programmed.
	Seed uint64
}

const (
	// MinReps is the fewest repetitions Plan.Check accepts: a p10 and
	// p90 of fewer than ten samples are the extremes.
	MinReps = 10
	// maxErasesPerBlock is how many timed erases one erase block of the
	// scratch may take in a run: the repetitions rotate over the blocks,
	// so a run wears no block by more than this and does not time one
	// block's peculiarities only.
	maxErasesPerBlock = 8
	// blockWindow is the block erase measured when the erase size is
	// smaller: the 64 KiB block of SPI NOR (opcode D8h/DCh).
	blockWindow = 64 << 10
)

// DefaultPlan returns the default plan on scratch: 40 repetitions after 3
// warm-up ones, 10 timed 64 KiB erases.
func DefaultPlan(scratch Range) Plan {
	return Plan{Scratch: scratch, Reps: 40, Warmup: 3, BlockReps: 10, Seed: 1}
}

// MinScratch returns the least scratch size the plan needs on a device
// of geometry g: enough erase blocks for Warmup+Reps erases at most
// maxErasesPerBlock each (and at least two blocks).
func (p Plan) MinScratch(g hal.Geometry) int64 {
	blocks := max(2, (int64(p.Warmup+p.Reps)+maxErasesPerBlock-1)/maxErasesPerBlock)
	return blocks * g.EraseSize
}

// Check reports whether the plan can run on a device of geometry g; its
// errors wrap the sentinels above and say how to fix the range.
func (p Plan) Check(g hal.Geometry) error {
	if err := g.Validate(); err != nil {
		return err
	}
	s := p.Scratch
	switch {
	case p.Reps < MinReps:
		return fmt.Errorf("%w: %d (want at least %d, for a p10 and p90)", ErrTooFewReps, p.Reps, MinReps)
	case p.Warmup < 0 || p.BlockReps < 0:
		return fmt.Errorf("negative warm-up %d or block repetitions %d", p.Warmup, p.BlockReps)
	case s.Size == 0:
		return fmt.Errorf("%w: name the range calibration may erase, OFFSET+SIZE", ErrNoScratch)
	case s.Off < 0 || s.Size < 0 || s.Off >= g.Size || s.Size > g.Size-s.Off:
		return fmt.Errorf("%w: %v ends at %#x, the device %s is %#x bytes", ErrScratchOutOfDevice, s, s.End(), g.Name, g.Size)
	case s.Off%g.EraseSize != 0 || s.Size%g.EraseSize != 0:
		lo := s.Off / g.EraseSize * g.EraseSize
		hi := (s.End() + g.EraseSize - 1) / g.EraseSize * g.EraseSize
		return fmt.Errorf("%w: %v on %s, whose erase size is %s: calibration erases whole blocks (the aligned range around it is %v)",
			ErrScratchUnaligned, s, g.Name, hal.FormatSize(g.EraseSize), Range{lo, min(hi, g.Size) - lo})
	case s.Size < p.MinScratch(g):
		return fmt.Errorf("%w: %v holds %d erase blocks of %s; %d repetitions (and %d warm-up) need at least %s (%d blocks, at most %d erases each): give a larger range or fewer repetitions",
			ErrScratchTooSmall, s, s.Size/g.EraseSize, hal.FormatSize(g.EraseSize), p.Reps, p.Warmup,
			hal.FormatSize(p.MinScratch(g)), p.MinScratch(g)/g.EraseSize, maxErasesPerBlock)
	}
	return nil
}

// blockWindowIn returns the first 64 KiB-aligned 64 KiB window inside the
// scratch, if the device's erase size is smaller than 64 KiB and divides
// it.
func (p Plan) blockWindowIn(g hal.Geometry) (Range, bool) {
	if g.EraseSize >= blockWindow || blockWindow%g.EraseSize != 0 {
		return Range{}, false
	}
	off := (p.Scratch.Off + blockWindow - 1) / blockWindow * blockWindow
	if off+blockWindow > p.Scratch.End() {
		return Range{}, false
	}
	return Range{off, blockWindow}, true
}
