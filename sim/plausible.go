package sim

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/hal"
)

// ErrImplausible is wrapped by CheckPlausible's error: a part's figures
// are physically impossible for its kind of flash.
var ErrImplausible = errors.New("physically implausible")

// Physical bounds. They are wide on purpose: they refuse figures no chip
// of the kind can have (an emulator's instant erase, a unit mistake, a
// broken measurement), not figures that are merely unusual.
const (
	// maxSerialClock is the fastest serial flash clock: 200 MHz, the top
	// of JEDEC JESD251 (xSPI) octal parts; quad SPI NOR parts stop at
	// 133–166 MHz.
	maxSerialClock = 200_000_000
	// maxSerialRate bounds a bus of unknown width and clock: octal DTR at
	// 200 MHz, 8 lines × 2 edges × 200 MHz / 8 = 400 MB/s. No serial
	// flash interface moves data faster; a known Bus bounds it by its own
	// Bus.MaxBytesPerSec.
	maxSerialRate = 8 * 2 * maxSerialClock / 8

	// NOR programs by channel hot-electron injection in program-and-verify
	// pulses of about a microsecond, and its charge pump feeds only a few
	// dozen bits per pulse, so even a 256-byte page (2048 bits) takes tens
	// of pulses: the fastest parts list about 100 µs typical (the
	// MT25QL256's SFDP says 120 µs). norMinProgram is a tenth of that.
	// The page's data transfer is charged apart (at ReadBytesPerSec), so
	// a measured program that is no slower than its own transfer — an
	// emulator writing a file — shows up here as an array time near zero.
	// norMaxProgram is twenty times the slowest datasheet maximum of a few
	// milliseconds.
	norMinProgram = 10 * time.Microsecond
	norMaxProgram = 100 * time.Millisecond
	// A NOR erase, of a 4 KiB sector or of a larger block, pre-programs,
	// then applies Fowler–Nordheim tunnelling pulses of about a
	// millisecond each until verify passes: no erase command ends in less
	// than ~1 ms (the fastest 4 KiB sector erases list 15–30 ms typical).
	// At the other end the largest uniform NOR sectors (256 KiB) and 64
	// KiB blocks list maxima of 2–4 s; an erase command slower than tens
	// of seconds is a hung chip, not a timing.
	norMinErase = time.Millisecond
	norMaxErase = 30 * time.Second
	// SPI NAND (SLC): tPROG 200–700 µs and tBERS 2–10 ms typical, tR
	// 25–100 µs; the bounds are a factor of ten or more outside that.
	nandMinProgram = 20 * time.Microsecond
	nandMaxProgram = 20 * time.Millisecond
	nandMinErase   = 300 * time.Microsecond
	nandMaxErase   = time.Second
	nandMinRead    = 2 * time.Microsecond
	nandMaxRead    = 10 * time.Millisecond
	// maxCommand bounds a command's overhead. A calibration on Linux
	// counts the system call and the driver in it (tens to hundreds of
	// microseconds on a BMC); 10 ms is far beyond either.
	maxCommand = 10 * time.Millisecond
)

// timeBounds are the array-time bounds of a kind of flash.
type timeBounds struct {
	program, erase, read [2]time.Duration // least and most
}

var kindBounds = map[hal.Kind]timeBounds{
	hal.NOR:  {program: [2]time.Duration{norMinProgram, norMaxProgram}, erase: [2]time.Duration{norMinErase, norMaxErase}},
	hal.NAND: {program: [2]time.Duration{nandMinProgram, nandMaxProgram}, erase: [2]time.Duration{nandMinErase, nandMaxErase}, read: [2]time.Duration{nandMinRead, nandMaxRead}},
}

// CheckPlausible reports whether p's timings are physically possible for
// its kind of flash, listing every figure that is not in one error
// wrapping ErrImplausible:
//
//   - every time positive (a NOR part's page read may be 0: NOR has no
//     array-to-cache read), a block erase time exactly when there is a
//     block erase size, and every maximum at least its typical (the bus
//     rate: at most);
//   - page program, erase and NAND page read times within the kind's
//     bounds (the constants above say why);
//   - the bus rate at most what the bus can carry: Bus.MaxBytesPerSec
//     when the bus is known (its clock at most 200 MHz), else 400 MB/s,
//     octal DTR at 200 MHz;
//   - a command no shorter than one byte at the bus rate (the opcode) and
//     at most 10 ms.
//
// Every built-in part passes.
func (p Part) CheckPlausible() error {
	var bad []string
	add := func(format string, a ...any) { bad = append(bad, fmt.Sprintf(format, a...)) }
	bounds, ok := kindBounds[p.Kind]
	if !ok {
		return fmt.Errorf("part %q: %w: unknown kind %v", p.Name, ErrImplausible, p.Kind)
	}
	within := func(what string, v time.Duration, b [2]time.Duration, why string) {
		switch {
		case v <= 0:
			add("%s %v is not positive", what, v)
		case v < b[0]:
			add("%s %v is faster than %v (%s)", what, v, b[0], why)
		case v > b[1]:
			add("%s %v is slower than %v (%s)", what, v, b[1], why)
		}
	}
	for _, corner := range []struct {
		name string
		t    Timing
	}{{"typical", p.Typical}, {"max", p.Max}} {
		t := corner.t
		within(corner.name+" page program", t.PageProgram, bounds.program, "program-and-verify pulses")
		within(corner.name+" sector erase", t.SectorErase, bounds.erase, "erase pulses")
		if p.BlockEraseSize > 0 {
			within(corner.name+" block erase", t.BlockErase, bounds.erase, "erase pulses")
		} else if t.BlockErase != 0 {
			add("%s block erase %v given without a block erase size", corner.name, t.BlockErase)
		}
		if p.Kind == hal.NAND {
			within(corner.name+" page read", t.PageRead, bounds.read, "array-to-cache read")
		}
		p.checkBus(corner.name, t, add)
	}
	for _, c := range p.cornerPairs() {
		if c.max < c.typ {
			add("max %s %v is below its typical %v", c.what, c.max, c.typ)
		}
	}
	if p.Max.ReadBytesPerSec > p.Typical.ReadBytesPerSec {
		add("max-corner bus rate %d B/s is above the typical %d B/s (the max corner is the slow one)", p.Max.ReadBytesPerSec, p.Typical.ReadBytesPerSec)
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("part %q: %w for %v flash: %s", p.Name, ErrImplausible, strings.ToUpper(p.Kind.String()), strings.Join(bad, "; "))
}

// cornerPair is one timing at the typical and the maximum corner.
type cornerPair struct {
	what     string
	typ, max time.Duration
}

// cornerPairs lists the timings a part gives at both corners.
func (p Part) cornerPairs() []cornerPair {
	return []cornerPair{
		{"page program", p.Typical.PageProgram, p.Max.PageProgram},
		{"sector erase", p.Typical.SectorErase, p.Max.SectorErase},
		{"block erase", p.Typical.BlockErase, p.Max.BlockErase},
		{"page read", p.Typical.PageRead, p.Max.PageRead},
		{"command overhead", p.Typical.CommandOverhead, p.Max.CommandOverhead},
	}
}

// checkBus checks one corner's bus rate and command overhead.
func (p Part) checkBus(corner string, t Timing, add func(string, ...any)) {
	limit, why := int64(maxSerialRate), "octal DTR at 200 MHz, the fastest serial flash bus"
	if p.Bus.Known() {
		limit = p.Bus.MaxBytesPerSec()
		why = fmt.Sprintf("%d lines at %d MHz", p.Bus.Lines, p.Bus.ClockHz/1_000_000)
		if p.Bus.DTR {
			why += " DTR"
		}
		if p.Bus.ClockHz > maxSerialClock {
			add("bus clock %d MHz is above 200 MHz, the fastest serial flash clock", p.Bus.ClockHz/1_000_000)
		}
	}
	if t.ReadBytesPerSec <= 0 {
		add("%s bus rate %d B/s is not positive", corner, t.ReadBytesPerSec)
		return
	}
	if t.ReadBytesPerSec > limit {
		add("%s bus rate %d B/s is above %d B/s (%s)", corner, t.ReadBytesPerSec, limit, why)
	}
	opcode := time.Duration(int64(time.Second) / t.ReadBytesPerSec)
	switch {
	case t.CommandOverhead < max(opcode, 1):
		add("%s command overhead %v is shorter than one byte on the bus (%v)", corner, t.CommandOverhead, max(opcode, 1))
	case t.CommandOverhead > maxCommand:
		add("%s command overhead %v is slower than %v", corner, t.CommandOverhead, time.Duration(maxCommand))
	}
}
