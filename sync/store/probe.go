// Probe: what a store range holds before anything is opened or formatted
// there — for a first start that must tell a cmcsync format cut by power
// loss (finish it) from someone's data (refuse).

package store

import (
	"errors"
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
)

// ProbeState says what a store range holds.
type ProbeState uint8

// Probe states.
const (
	// Blank: every block reads erased (0xFF). Formatting loses nothing.
	Blank ProbeState = iota + 1
	// FormatInterrupted: a cmcsync format was cut by power loss before
	// its end (its format intent, no superblock). What the range held
	// before is gone already: format again.
	FormatInterrupted
	// Formatted: a store (a valid superblock copy): Identity says whose.
	// Open it.
	Formatted
	// Foreign: anything else — not cmcsync's. Refuse it: formatting
	// erases it.
	Foreign
)

var probeNames = [...]string{Blank: "blank", FormatInterrupted: "format-interrupted", Formatted: "formatted", Foreign: "foreign"}

// String returns the state's name, e.g. "format-interrupted".
func (p ProbeState) String() string {
	if int(p) < len(probeNames) && probeNames[p] != "" {
		return probeNames[p]
	}
	return fmt.Sprintf("probe(%d)", uint8(p))
}

// ProbeResult is what Probe found.
type ProbeResult struct {
	State ProbeState
	// Identity: the store's (Formatted, with its format version even if
	// this package does not read it: Open then returns ErrVersion) or the
	// interrupted format's (FormatInterrupted; zero if the cut tore the
	// format intent itself).
	Identity Identity
	Detail   string // in plain words
}

// Probe reads the superblock slots of the store range [off, off+size) of f
// — and, when neither holds a superblock or a format intent, every block
// of the range — and says what the range holds. It never writes. Errors
// are read errors and a range that does not fit the device.
func Probe(f hal.Flash, off, size int64) (ProbeResult, error) {
	g := f.Geometry()
	e := g.EraseSize
	if off < 0 || size < 2*e || off > g.Size || size > g.Size-off || e <= 0 || off%e != 0 {
		return ProbeResult{}, fmt.Errorf("store range %#x+%#x does not fit %s or is not erase-aligned", off, size, g.Name)
	}
	slot := slotSize(g)
	var copies [2]superblockCopy
	for i := range copies {
		c, err := readSuperblockCopy(f, off+int64(i)*e, slot, false)
		if err != nil {
			return ProbeResult{}, fmt.Errorf("probe: read superblock %d: %w", i, err)
		}
		copies[i] = c
	}
	for i, c := range copies {
		if c.good || errors.Is(c.err, ErrVersion) {
			return ProbeResult{State: Formatted, Identity: c.sb.identity(),
				Detail: fmt.Sprintf("a store of chip %d of pair %#x, format version %d (superblock copy %d)", c.sb.ChipID, c.sb.PairID, c.sb.Version, i)}, nil
		}
	}
	if c := copies[0]; c.intent {
		return ProbeResult{State: FormatInterrupted, Identity: c.sb.identity(),
			Detail: fmt.Sprintf("a format of chip %d of pair %#x was cut before its end", c.sb.ChipID, c.sb.PairID)}, nil
	}
	return probeBlocks(f, off, size, slot)
}

// probeBlocks tells a blank range from foreign data, and from a format cut
// while it wrote its intent: block 0 written within its first slot only
// (the format-intent record's), every other block erased.
func probeBlocks(f hal.Flash, off, size, slot int64) (ProbeResult, error) {
	e := f.Geometry().EraseSize
	buf := make([]byte, e)
	firstOnly := false
	for b := int64(0); b < size/e; b++ {
		if bad, err := hal.IsBad(f, off+b*e); err != nil {
			return ProbeResult{}, fmt.Errorf("probe: %w", err)
		} else if bad {
			continue
		}
		if _, err := f.ReadAt(buf, off+b*e); err != nil {
			return ProbeResult{}, fmt.Errorf("probe: %w", err)
		}
		if hal.IsErased(buf) {
			continue
		}
		if b == 0 && hal.IsErased(buf[slot:]) {
			firstOnly = true
			continue
		}
		return ProbeResult{State: Foreign, Detail: fmt.Sprintf("store block %d at %#x holds data that is not a cmcsync store's", b, off+b*e)}, nil
	}
	if firstOnly {
		return ProbeResult{State: FormatInterrupted,
			Detail: "the first slot holds an invalid record and the rest of the range is erased: a format cut while it wrote its format intent"}, nil
	}
	return ProbeResult{State: Blank, Detail: "every block reads erased"}, nil
}
