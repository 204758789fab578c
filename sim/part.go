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

// Timing is the datasheet timing of a part: what each operation costs in
// virtual time.
type Timing struct {
	// PageProgram is the time to program one page (256 B on NOR, tPP; the
	// whole page on NAND, tPROG).
	PageProgram time.Duration
	// SectorErase is the time to erase one erase block of Part.EraseSize
	// (4 KiB on NOR, tSE; the 128 KiB block on NAND, tBERS).
	SectorErase time.Duration
	// BlockErase is the time to erase Part.BlockEraseSize (64 KiB on NOR,
	// tBE); 0 if the part has no larger erase.
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
	// EraseSize is the smallest erase (4 KiB sector on NOR, block on NAND).
	EraseSize int64
	// BlockEraseSize is the larger erase a driver uses for aligned spans
	// (64 KiB on NOR); 0 if none.
	BlockEraseSize int64
	// PageSize is the program page.
	PageSize int64
	// WriteSize is the program granularity: 1 on NOR, PageSize on NAND.
	WriteSize int64
	// Typical and Max are the datasheet's typical and maximum timings.
	Typical, Max Timing
	// Endurance is the number of erase cycles each erase block survives;
	// the erase after that fails with hal.ErrWornOut.
	Endurance int
}

// Geometry returns the hal geometry of a whole chip of this part.
func (p Part) Geometry() hal.Geometry {
	return hal.Geometry{Name: p.Name, Kind: p.Kind, Size: p.Size, EraseSize: p.EraseSize,
		WriteSize: p.WriteSize, PageSize: p.PageSize}
}

const (
	kib = int64(1) << 10
	mib = int64(1) << 20

	// busRate is 1-1-4 at 50 MHz: 4 bits per clock, 25 MB/s (AST2600
	// boot-flash controller, DESIGN.md §5).
	busRate = 25_000_000
	// norCommand: opcode (8 clocks) + 4-byte address (32 clocks) + 8 dummy
	// clocks of a 1-1-4 fast read, or WREN + opcode + address of a program,
	// at 50 MHz: 48 clocks = 960 ns.
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
		PageSize: 256, WriteSize: 1, Typical: typ, Max: max, Endurance: 100_000}
}

// parts is the profile table. Typical/max values: DESIGN.md §5 (vendor SFDP
// and driver tables). Where §5 gives one number it is the typical one, and
// the maximum comes from the vendor datasheet as noted.
var parts = []Part{
	// Winbond W25Q256JV datasheet: tPP 0.7/3 ms, tSE 50/400 ms, tBE1 150/2000 ms.
	norPart("w25q256jv", 32*mib,
		Timing{PageProgram: ms(0.7), SectorErase: ms(50), BlockErase: ms(150)},
		Timing{PageProgram: ms(3), SectorErase: ms(400), BlockErase: ms(2000)}),
	// Winbond W25Q512JV: tPP 0.7/3.5 ms, tSE 64/400 ms, tBE1 160/2000 ms (§5).
	norPart("w25q512jv", 64*mib,
		Timing{PageProgram: ms(0.7), SectorErase: ms(64), BlockErase: ms(160)},
		Timing{PageProgram: ms(3.5), SectorErase: ms(400), BlockErase: ms(2000)}),
	// Macronix MX66L1G45G: typical from §5 (SFDP: tPP 0.256 ms, tSE 30 ms,
	// tBE 288 ms). §5 gives no maximum: the max values (tPP 0.75 ms, tSE
	// 400 ms, tBE64K 2000 ms) are datasheet-plausible figures for Macronix
	// 3 V MXSMIO parts of this family, not checked against this part's AC
	// table.
	norPart("mx66l1g45g", 128*mib,
		Timing{PageProgram: ms(0.256), SectorErase: ms(30), BlockErase: ms(288)},
		Timing{PageProgram: ms(0.75), SectorErase: ms(400), BlockErase: ms(2000)}),
	// Micron MT25QL256ABA: typical from §5 (tPP 0.12 ms, tSSE 48 ms,
	// tSE 160 ms). §5 gives no maximum: the max values (tPP 1.8 ms, 4 KiB
	// subsector erase 400 ms, 64 KiB sector erase 1 s) are the Micron MT25Q
	// datasheet's program/erase maxima as recalled, not re-checked here.
	norPart("mt25ql256", 32*mib,
		Timing{PageProgram: ms(0.12), SectorErase: ms(48), BlockErase: ms(160)},
		Timing{PageProgram: ms(1.8), SectorErase: ms(400), BlockErase: ms(1000)}),
	// Micron MT29F2G01ABAGD SPI NAND, 2 Gbit, 2 KiB pages, 64 pages (128 KiB)
	// per block: tPROG 220/600 µs, tBERS 2/10 ms, tR 25 µs typical with the
	// on-die ECC off and 70 µs max with it on (datasheet-plausible values; the
	// datasheet lists tR max only). Bus as for NOR: 1-1-4 at 50 MHz.
	{Name: "mt29f2g01", Kind: hal.NAND, Size: 256 * mib, EraseSize: 128 * kib, PageSize: 2048, WriteSize: 2048,
		Typical:   Timing{PageProgram: us(220), SectorErase: ms(2), PageRead: us(25), ReadBytesPerSec: busRate, CommandOverhead: nandCommand},
		Max:       Timing{PageProgram: us(600), SectorErase: ms(10), PageRead: us(70), ReadBytesPerSec: busRate, CommandOverhead: nandCommand},
		Endurance: 100_000},
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

// validate checks a Part for self-consistency (used for hand-made parts).
func (p Part) validate() error {
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
	return nil
}
