package sim

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/hal"
)

// ErrUnknownEraseModel is wrapped by ParseEraseModel's error for a name it
// does not know.
var ErrUnknownEraseModel = errors.New("unknown erase model")

// EraseModel is how the Linux MTD layer in front of a SPI NOR chip erases
// it: the erase size /dev/mtdN reports (and so the geometry a chip
// simulated under the model reports), and the one command each erase unit
// costs.
//
// What Linux does (drivers/mtd/spi-nor/core.c, torvalds/linux at commit
// 0173c32a0ebd42c3b0c3f53005590c7749d0652c):
//   - spi_nor_select_erase picks one uniform erase type: 4096 bytes when the
//     kernel is built with CONFIG_MTD_SPI_NOR_USE_4K_SECTORS ("prefer small
//     sector erase"), else the part's sector_size (64 KiB for the parts
//     here), and sets mtd->erasesize to it;
//   - spi_nor_erase, for a uniform-erase chip, erases "sector at a time":
//     a loop of write enable, spi_nor_erase_sector (one command of that
//     erase type) and a wait for ready, advancing by mtd->erasesize. It
//     uses the chip-erase command only when the request covers the whole
//     chip (len == mtd->size), and spi_nor_erase_multi_sectors (a mix of
//     erase types) only for non-uniform chips. A comment there notes that
//     SPINOR_OP_SE could speed up large erases, and that it is not done.
//
// So an aligned 64 KiB MEMERASE on a kernel with 4 KiB sectors costs 16
// sector erases, not one block erase; and a power cut during a multi-unit
// erase leaves the units before the cut erased, the unit in progress
// partly erased and the rest untouched. The project's QEMU image reports
// erasesize 00001000 in /proc/mtd: Erase4K.
//
// The simulator does not model the chip-erase command: an erase of the
// whole chip is charged as unit erases, like any other.
type EraseModel uint8

const (
	// Erase4K: the part's smallest erase is the erase unit (the 4 KiB
	// sector, opcode 20h/21h, on SPI NOR; the erase block on NAND). The
	// default, as on a kernel with CONFIG_MTD_SPI_NOR_USE_4K_SECTORS=y.
	Erase4K EraseModel = iota
	// Erase64K: the 64 KiB block (opcode D8h/DCh, Part.BlockEraseSize) is
	// the erase unit, as on a kernel built without
	// CONFIG_MTD_SPI_NOR_USE_4K_SECTORS. SPI NOR only.
	Erase64K
)

var eraseModelNames = []string{Erase4K: "4k", Erase64K: "64k"}

// EraseModels returns every erase model, default first.
func EraseModels() []EraseModel { return []EraseModel{Erase4K, Erase64K} }

// String returns "4k" or "64k", as ParseEraseModel reads it.
func (m EraseModel) String() string {
	if int(m) < len(eraseModelNames) {
		return eraseModelNames[m]
	}
	return fmt.Sprintf("erasemodel(%d)", uint8(m))
}

// ParseEraseModel parses "4k" or "64k" (any case). Anything else is an
// error wrapping ErrUnknownEraseModel.
func ParseEraseModel(s string) (EraseModel, error) {
	for i, n := range eraseModelNames {
		if strings.EqualFold(s, n) {
			return EraseModel(i), nil
		}
	}
	return 0, fmt.Errorf("%w %q (want %s)", ErrUnknownEraseModel, s, strings.Join(eraseModelNames, " or "))
}

// EraseUnit returns the erase size of the part under model m: what
// /dev/mtdN would report as erasesize. Erase64K needs a NOR part with a
// block erase.
func (p Part) EraseUnit(m EraseModel) (int64, error) {
	switch {
	case m == Erase4K:
		return p.EraseSize, nil
	case m != Erase64K:
		return 0, fmt.Errorf("%w %v", ErrUnknownEraseModel, m)
	case p.Kind != hal.NOR:
		return 0, fmt.Errorf("part %s is %v: the 64k erase model is for SPI NOR parts (a NAND part erases its %s blocks); use 4k",
			p.Name, p.Kind, hal.FormatSize(p.EraseSize))
	case p.BlockEraseSize == 0:
		return 0, fmt.Errorf("part %s has no block erase: use the 4k erase model", p.Name)
	}
	return p.BlockEraseSize, nil
}

// GeometryFor returns the hal geometry of a whole chip of this part under
// erase model m (its EraseSize is EraseUnit(m)).
func (p Part) GeometryFor(m EraseModel) (hal.Geometry, error) {
	unit, err := p.EraseUnit(m)
	if err != nil {
		return hal.Geometry{}, err
	}
	g := p.Geometry()
	g.EraseSize = unit
	return g, nil
}

// UnitErase returns the time of erasing one erase unit of model m:
// SectorErase for Erase4K, BlockErase for Erase64K (without the command
// overhead).
func (t Timing) UnitErase(m EraseModel) time.Duration {
	if m == Erase64K {
		return t.BlockErase
	}
	return t.SectorErase
}
