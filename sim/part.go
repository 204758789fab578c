package sim

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/hal"
)

// ErrUnknownPart is wrapped by LookupPart's error for a name it does not know.
var ErrUnknownPart = errors.New("unknown flash part")

// Timing is the timing of a part at one corner (typical or maximum): what
// each operation costs in virtual time. Part.Typical and Part.Max say where
// each value comes from.
type Timing struct {
	// PageProgram is the time to program one page (256 B on NOR, tPP; the
	// whole page on NAND, tPROG).
	PageProgram time.Duration
	// SectorErase is the time to erase one erase block of Part.EraseSize
	// (the 4 KiB sector on NOR, tSE; the 128 KiB block on NAND, tBERS).
	SectorErase time.Duration
	// BlockErase is the time to erase Part.BlockEraseSize (the 64 KiB block
	// on NOR, tBE), the erase unit of the 64k erase model; 0 if the part
	// has no larger erase.
	BlockErase time.Duration
	// PageRead is the NAND array-to-cache read time (tR) per page; 0 on NOR.
	PageRead time.Duration
	// ReadBytesPerSec is the bus rate of data transfer, e.g. 25_000_000 for
	// 1-1-4 reads at 50 MHz (4 bits per clock). Program data crosses the same
	// bus at the same rate.
	ReadBytesPerSec int64
	// CommandOverhead is the bus time of one command's opcode, address and
	// dummy cycles. It is charged once per read, once per page program
	// command and once per erase command.
	CommandOverhead time.Duration
}

// Part is a flash chip profile: geometry, typical and maximum timings, and
// endurance.
type Part struct {
	// Name is the lower-case part name, e.g. "w25q256jv".
	Name string
	// Kind is hal.NOR or hal.NAND.
	Kind hal.Kind
	// Size is the chip size in bytes.
	Size int64
	// EraseSize is the smallest erase (4 KiB sector on NOR, block on NAND),
	// the erase unit of the 4k erase model.
	EraseSize int64
	// BlockEraseSize is the chip's larger uniform erase (the 64 KiB block,
	// opcode D8h/DCh, on NOR), the erase unit of the 64k erase model; 0 if
	// none. Under the 4k model Linux never uses it (see EraseModel).
	BlockEraseSize int64
	// PageSize is the program page.
	PageSize int64
	// WriteSize is the program granularity: 1 on NOR, PageSize on NAND.
	WriteSize int64
	// Typical and Max are the typical and maximum timings.
	Typical, Max Timing
	// Endurance is the number of erase cycles each erase block survives;
	// the erase after that fails with hal.ErrWornOut.
	Endurance int
	// Bus is the interface the timings assume, if known (the zero value:
	// unknown); CheckPlausible bounds the bus rate by it.
	Bus Bus
}

// Bus is a serial flash interface: its data lines and clock.
type Bus struct {
	// Lines is the number of data lines of a read's data phase: 1, 2, 4
	// or 8 (1-1-4 reads: 4). 0: unknown.
	Lines int
	// ClockHz is the SPI clock; 0: unknown.
	ClockHz int64
	// DTR is double transfer rate (data on both clock edges).
	DTR bool
}

// Known reports whether b gives both the lines and the clock.
func (b Bus) Known() bool { return b.Lines > 0 && b.ClockHz > 0 }

// MaxBytesPerSec is the most data the bus can carry: lines × clock (× 2
// with DTR) / 8 bits. 0 if the bus is not Known.
func (b Bus) MaxBytesPerSec() int64 {
	if !b.Known() {
		return 0
	}
	bits := int64(b.Lines) * b.ClockHz
	if b.DTR {
		bits *= 2
	}
	return bits / 8
}

// Geometry returns the hal geometry of a whole chip of this part under the
// default erase model (Erase4K); see GeometryFor.
func (p Part) Geometry() hal.Geometry {
	return hal.Geometry{Name: p.Name, Kind: p.Kind, Size: p.Size, EraseSize: p.EraseSize,
		WriteSize: p.WriteSize, PageSize: p.PageSize}
}

const (
	kib = int64(1) << 10
	mib = int64(1) << 20

	// busRate is the simulator's bus: 1-1-4 transfers (the fast read
	// 6Bh/6Ch every NOR part here lists in SFDP BFPT DWORD 3) at an SPI
	// clock of 50 MHz, 4 bits per clock: 25 MB/s. The 50 MHz clock is an
	// assumption for a BMC's boot-flash controller, not verified against a
	// board.
	busRate            = 25_000_000
	busLines, busClock = 4, 50_000_000
	// maxBusClock bounds Bus.ClockHz so that MaxBytesPerSec cannot
	// overflow (CheckPlausible bounds it far lower).
	maxBusClock = 100_000_000_000
	// norCommand is 48 clocks at 50 MHz, 960 ns, for every NOR command:
	// a read's opcode (8 clocks, 1 bit each), 4-byte address (32 clocks,
	// 1-1-4 sends it on one line) and 8 dummy clocks (SFDP BFPT DWORD 3 of
	// every NOR part here: 1-1-4 fast read with 8 mode + wait clocks); a
	// program's or erase's write enable (8) + opcode (8) + address (32).
	// Status polling between commands is not charged.
	norCommand = 960 * time.Nanosecond
	// nandCommand: PAGE READ (0x13, 8+24 clocks) and READ FROM CACHE x4
	// (0x6B, 8+16+8 clocks): 64 clocks at 50 MHz = 1.28 µs.
	nandCommand = 1280 * time.Nanosecond
)

func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
func us(v float64) time.Duration { return time.Duration(v * float64(time.Microsecond)) }

func norPart(name string, size int64, typ, max Timing) Part {
	typ.ReadBytesPerSec, max.ReadBytesPerSec = busRate, busRate
	typ.CommandOverhead, max.CommandOverhead = norCommand, norCommand
	return Part{Name: name, Kind: hal.NOR, Size: size, EraseSize: 4 * kib, BlockEraseSize: 64 * kib,
		PageSize: 256, WriteSize: 1, Typical: typ, Max: max, Endurance: 100_000, Bus: Bus{Lines: busLines, ClockHz: busClock}}
}

// parts is the profile table.
//
// NOR timings come from each chip's own SFDP Basic Flash Parameter Table
// (JEDEC JESD216B; the table Linux's spi-nor core reads at probe): DWORD 10
// holds each erase type's typical time as (count+1) × unit (1, 16 or 128
// ms, or 1 s) and one multiplier 2×(N+1) from typical to maximum for every
// erase type; DWORD 11 holds the typical page program time as (count+1) ×
// 8 or 64 µs and its multiplier 2×(N+1). So every typical value below is
// what the chip reports: a multiple of its unit, which need not equal the
// datasheet's typical (16 ms units encode 48 or 64 ms, not 45 or 50 ms).
// Every maximum is typical × multiplier, which can be looser than a
// datasheet's AC table (one multiplier serves all erase types). The
// vendor datasheets' AC tables were not verified here. The BFPT words are
// recorded in part_test.go, which decodes them and checks this table
// against them.
var parts = []Part{
	// Winbond W25Q256JV, SFDP as dumped from the chip in Azure/Project-
	// Cerberus, core/testing/flash/spi_flash_sfdp_test.c (SFDP_PARAMS_W25Q256JV):
	// DWORD 10 0x00a60236, DWORD 11 0xd314ea82.
	//   tPP:   11 × 64 µs = 704 µs typ; × 6 = 4.224 ms max.
	//   tSE:   4 × 16 ms = 64 ms typ (4 KiB, 20h); × 14 = 896 ms max.
	//   tBE64: 10 × 16 ms = 160 ms typ (64 KiB, D8h); × 14 = 2.24 s max.
	norPart("w25q256jv", 32*mib,
		Timing{PageProgram: us(704), SectorErase: ms(64), BlockErase: ms(160)},
		Timing{PageProgram: us(4224), SectorErase: ms(896), BlockErase: ms(2240)}),
	// Winbond W25Q512JV, SFDP as in QEMU hw/block/m25p80_sfdp.c
	// (sfdp_w25q512jv) and Azure/Project-Cerberus (SFDP_PARAMS_W25Q512JV):
	// DWORD 10 0x00a60236, DWORD 11 0xe214ea82 — the same times as the
	// W25Q256JV. The 64 ms typical sector erase is the SFDP encoding
	// (4 × 16 ms): the table's 16 ms unit can say 48 or 64 ms but not a
	// value in between such as a datasheet's typical, so the chip reports
	// (and Linux reads) the next multiple up. The datasheet's AC table
	// itself was not available here; the maxima a public driver for this
	// chip quotes from it (datasheet revision G: tPP 3 ms, tSE 400 ms,
	// 64 KiB erase 2 s) are tighter than the SFDP-derived ones below, so
	// the max corner here is the looser, SFDP one (one multiplier for
	// every erase type), as for the other parts.
	//   tPP:   704 µs typ; × 6 = 4.224 ms max.
	//   tSE:   64 ms typ; × 14 = 896 ms max.
	//   tBE64: 160 ms typ (64 KiB, D8h/DCh); × 14 = 2.24 s max.
	norPart("w25q512jv", 64*mib,
		Timing{PageProgram: us(704), SectorErase: ms(64), BlockErase: ms(160)},
		Timing{PageProgram: us(4224), SectorErase: ms(896), BlockErase: ms(2240)}),
	// Macronix MX66L1G45G, SFDP as in QEMU hw/block/m25p80_sfdp.c
	// (sfdp_mx66l1g45g, a dump of the chip's table, which QEMU's emulated
	// MX66L1G45G returns to a guest kernel's SFDP read): DWORD 10
	// 0x00c549d6, DWORD 11 0xe304df85.
	//   tPP:   32 × 8 µs = 256 µs typ; × 12 = 3.072 ms max.
	//   tSE:   30 × 1 ms = 30 ms typ (4 KiB, 20h/21h); × 14 = 420 ms max.
	//   tBE64: 18 × 16 ms = 288 ms typ (64 KiB, D8h/DCh); × 14 = 4.032 s max.
	norPart("mx66l1g45g", 128*mib,
		Timing{PageProgram: us(256), SectorErase: ms(30), BlockErase: ms(288)},
		Timing{PageProgram: us(3072), SectorErase: ms(420), BlockErase: ms(4032)}),
	// Micron MT25QL256ABA, SFDP as dumped from the chip in Azure/Project-
	// Cerberus (SFDP_PARAMS_MT25Q256ABA): DWORD 10 0x00994a24, DWORD 11
	// 0xd4038e8b.
	//   tPP:   15 × 8 µs = 120 µs typ; × 24 = 2.88 ms max.
	//   tSE:   3 × 16 ms = 48 ms typ (4 KiB subsector, 20h); × 10 = 480 ms max.
	//   tBE64: 10 × 16 ms = 160 ms typ (64 KiB sector, D8h); × 10 = 1.6 s max.
	norPart("mt25ql256", 32*mib,
		Timing{PageProgram: us(120), SectorErase: ms(48), BlockErase: ms(160)},
		Timing{PageProgram: us(2880), SectorErase: ms(480), BlockErase: ms(1600)}),
	// Micron MT29F2G01ABAGD SPI NAND, 2 Gbit, 2 KiB pages, 64 pages (128 KiB)
	// per block. SPI NAND has no SFDP. Not verified: tPROG 220/600 µs,
	// tBERS 2/10 ms, tR 25 µs typical (on-die ECC off) and 70 µs max (ECC
	// on) are plausible values for this class of part, not checked against
	// its datasheet. Bus as for NOR: 1-1-4 at 50 MHz.
	{Name: "mt29f2g01", Kind: hal.NAND, Size: 256 * mib, EraseSize: 128 * kib, PageSize: 2048, WriteSize: 2048,
		Typical:   Timing{PageProgram: us(220), SectorErase: ms(2), PageRead: us(25), ReadBytesPerSec: busRate, CommandOverhead: nandCommand},
		Max:       Timing{PageProgram: us(600), SectorErase: ms(10), PageRead: us(70), ReadBytesPerSec: busRate, CommandOverhead: nandCommand},
		Endurance: 100_000, Bus: Bus{Lines: busLines, ClockHz: busClock}},
}

// Parts returns the known part profiles (a fresh copy each call).
func Parts() []Part {
	out := make([]Part, len(parts))
	copy(out, parts)
	return out
}

// PartNames returns the names of the known parts, in table order.
func PartNames() []string {
	names := make([]string, len(parts))
	for i, p := range parts {
		names[i] = p.Name
	}
	return names
}

// LookupPart returns the profile named name (case-insensitive). An unknown
// name gives an error wrapping ErrUnknownPart that lists the known parts.
func LookupPart(name string) (Part, error) {
	for _, p := range parts {
		if strings.EqualFold(p.Name, name) {
			return p, nil
		}
	}
	return Part{}, fmt.Errorf("%w %q (known parts: %s)", ErrUnknownPart, name, strings.Join(PartNames(), ", "))
}

// Validate checks a Part for self-consistency — a valid geometry, a
// power-of-two block erase, a positive bus rate and endurance, no negative
// time — so that a simulated chip can run on it (New checks it).
// Whether its figures are physically possible is CheckPlausible's
// question.
func (p Part) Validate() error {
	if err := p.Geometry().Validate(); err != nil {
		return fmt.Errorf("part %q: %w", p.Name, err)
	}
	if p.Kind == hal.NAND && p.WriteSize != p.PageSize {
		return fmt.Errorf("part %q: nand write size %d must equal the page size %d", p.Name, p.WriteSize, p.PageSize)
	}
	if p.BlockEraseSize != 0 && (p.BlockEraseSize%p.EraseSize != 0 || p.BlockEraseSize&(p.BlockEraseSize-1) != 0) {
		return fmt.Errorf("part %q: block erase size %d is not a power-of-two multiple of the erase size %d", p.Name, p.BlockEraseSize, p.EraseSize)
	}
	if p.Typical.ReadBytesPerSec <= 0 || p.Max.ReadBytesPerSec <= 0 {
		return fmt.Errorf("part %q: bus rate must be positive", p.Name)
	}
	if p.Endurance <= 0 {
		return fmt.Errorf("part %q: endurance %d must be positive", p.Name, p.Endurance)
	}
	if p.EraseSize > 1<<30 {
		return fmt.Errorf("part %q: erase size %d too large", p.Name, p.EraseSize)
	}
	for _, t := range []Timing{p.Typical, p.Max} {
		if t.PageProgram < 0 || t.SectorErase < 0 || t.BlockErase < 0 || t.PageRead < 0 || t.CommandOverhead < 0 {
			return fmt.Errorf("part %q: a negative time cannot be simulated", p.Name)
		}
	}
	switch p.Bus.Lines {
	case 0, 1, 2, 4, 8:
	default:
		return fmt.Errorf("part %q: bus of %d lines: want 1, 2, 4 or 8 (0: unknown)", p.Name, p.Bus.Lines)
	}
	if p.Bus.ClockHz < 0 || p.Bus.ClockHz > maxBusClock {
		return fmt.Errorf("part %q: bus clock %d Hz: want 0 (unknown) to %d", p.Name, p.Bus.ClockHz, int64(maxBusClock))
	}
	return nil
}
