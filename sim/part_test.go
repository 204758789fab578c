package sim

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
)

// sfdpRecord is the part of a chip's SFDP Basic Flash Parameter Table
// (JEDEC JESD216B) that holds its timings, as dumped from the chip.
type sfdpRecord struct {
	part   string
	source string // where the dump was published
	// dword10 and dword11 are BFPT DWORDs 10 and 11 (1-based).
	dword10, dword11 uint32
	// sector and block are the erase types (1 to 4, BFPT DWORDs 8 and 9)
	// of the 4 KiB and the 64 KiB erase.
	sector, block int
}

// sfdpRecords are the BFPT words part.go's NOR timings come from.
var sfdpRecords = []sfdpRecord{
	{"w25q256jv", "Azure/Project-Cerberus core/testing/flash/spi_flash_sfdp_test.c, SFDP_PARAMS_W25Q256JV",
		0x00a60236, 0xd314ea82, 1, 3},
	{"w25q512jv", "QEMU hw/block/m25p80_sfdp.c sfdp_w25q512jv; Azure/Project-Cerberus SFDP_PARAMS_W25Q512JV",
		0x00a60236, 0xe214ea82, 1, 3},
	{"mx66l1g45g", "QEMU hw/block/m25p80_sfdp.c sfdp_mx66l1g45g",
		0x00c549d6, 0xe304df85, 1, 3},
	{"mt25ql256", "Azure/Project-Cerberus core/testing/flash/spi_flash_sfdp_test.c, SFDP_PARAMS_MT25Q256ABA",
		0x00994a24, 0xd4038e8b, 1, 2},
}

// bfptEraseTime decodes erase type n's (1 to 4) typical time from BFPT
// DWORD 10, and its maximum: typical × 2(N+1), N in bits 3:0.
func bfptEraseTime(dword10 uint32, n int) (typ, max time.Duration) {
	field := dword10 >> (4 + 7*(n-1)) & 0x7f
	units := []time.Duration{time.Millisecond, 16 * time.Millisecond, 128 * time.Millisecond, time.Second}
	typ = time.Duration(field&0x1f+1) * units[field>>5]
	return typ, typ * time.Duration(2*(dword10&0xf+1))
}

// bfptPageProgram decodes the typical page program time from BFPT DWORD
// 11 (bits 13:8: count in bits 12:8, 8 or 64 µs units by bit 13) and its
// maximum: typical × 2(N+1), N in bits 3:0.
func bfptPageProgram(dword11 uint32) (typ, max time.Duration) {
	field := dword11 >> 8 & 0x3f
	unit := 8 * time.Microsecond
	if field&0x20 != 0 {
		unit = 64 * time.Microsecond
	}
	typ = time.Duration(field&0x1f+1) * unit
	return typ, typ * time.Duration(2*(dword11&0xf+1))
}

// sfdpMismatch returns how p's NOR timings differ from what rec encodes,
// or nil.
func sfdpMismatch(p Part, rec sfdpRecord) error {
	ppTyp, ppMax := bfptPageProgram(rec.dword11)
	seTyp, seMax := bfptEraseTime(rec.dword10, rec.sector)
	beTyp, beMax := bfptEraseTime(rec.dword10, rec.block)
	for _, c := range []struct {
		what      string
		got, want time.Duration
	}{
		{"typical tPP", p.Typical.PageProgram, ppTyp}, {"max tPP", p.Max.PageProgram, ppMax},
		{"typical tSE", p.Typical.SectorErase, seTyp}, {"max tSE", p.Max.SectorErase, seMax},
		{"typical tBE", p.Typical.BlockErase, beTyp}, {"max tBE", p.Max.BlockErase, beMax},
	} {
		if c.got != c.want {
			return fmt.Errorf("%s %s is %v, SFDP (%s) encodes %v", p.Name, c.what, c.got, rec.source, c.want)
		}
	}
	return nil
}

func TestBFPTDecode(t *testing.T) {
	// MX66L1G45G: 4 KiB erase 30 × 1 ms, 64 KiB erase 18 × 16 ms,
	// multiplier 2 × (6 + 1) = 14; page program 32 × 8 µs, multiplier
	// 2 × (5 + 1) = 12.
	typ, max := bfptEraseTime(0x00c549d6, 1)
	require.Equal(t, []time.Duration{30 * time.Millisecond, 420 * time.Millisecond}, []time.Duration{typ, max})
	typ, max = bfptEraseTime(0x00c549d6, 3)
	require.Equal(t, []time.Duration{288 * time.Millisecond, 4032 * time.Millisecond}, []time.Duration{typ, max})
	typ, max = bfptPageProgram(0xe304df85)
	require.Equal(t, []time.Duration{256 * time.Microsecond, 3072 * time.Microsecond}, []time.Duration{typ, max})
	// W25Q512JV: page program 11 × 64 µs (unit bit set), multiplier 6.
	typ, max = bfptPageProgram(0xe214ea82)
	require.Equal(t, []time.Duration{704 * time.Microsecond, 4224 * time.Microsecond}, []time.Duration{typ, max})
}

// Every NOR part's timings are exactly what its chip's SFDP table encodes,
// and a table that differs is caught.
func TestPartTimingsMatchSFDP(t *testing.T) {
	nor := 0
	for _, p := range Parts() {
		if p.Kind == hal.NOR {
			nor++
		}
	}
	require.Len(t, sfdpRecords, nor, "every NOR part has its SFDP record")
	for _, rec := range sfdpRecords {
		p := mustPart(t, rec.part)
		require.NoError(t, sfdpMismatch(p, rec))
	}
	// The check fails on a wrong table: the audit's 0.75 ms max page
	// program for the MX66L1G45G, and another chip's words.
	mx := mustPart(t, "mx66l1g45g")
	wrong := mx
	wrong.Max.PageProgram = 750 * time.Microsecond
	require.ErrorContains(t, sfdpMismatch(wrong, sfdpRecords[2]), "max tPP is 750µs, SFDP")
	require.ErrorContains(t, sfdpMismatch(mx, sfdpRecords[0]), "typical tPP is 256µs")
}

// implausible returns why p's timings are not physically plausible for its
// kind, or nil: every maximum at least its typical and at most 32 times it
// (a JESD216 multiplier is at most 32); and for SPI NOR a page program of
// 50 µs to 5 ms typical, a 4 KiB erase of 10 ms to 1 s typical, a 64 KiB
// erase no faster than a 4 KiB one and no slower than sixteen of them,
// maxima within 10 s, a bus of 1 to 100 MB/s and a command of up to 10 µs.
func implausible(p Part) error {
	for _, c := range p.cornerPairs() {
		if c.max < c.typ {
			return fmt.Errorf("%s: max %s %v below typical %v", p.Name, c.what, c.max, c.typ)
		}
		if c.max > 32*c.typ {
			return fmt.Errorf("%s: max %s %v is over 32 times typical %v", p.Name, c.what, c.max, c.typ)
		}
	}
	if p.Kind != hal.NOR {
		return nil
	}
	within := func(what string, v, lo, hi time.Duration) error {
		if v < lo || v > hi {
			return fmt.Errorf("%s: %s %v outside [%v, %v]", p.Name, what, v, lo, hi)
		}
		return nil
	}
	ty, mx := p.Typical, p.Max
	for _, err := range []error{
		within("typical page program", ty.PageProgram, 50*time.Microsecond, 5*time.Millisecond),
		within("typical 4 KiB erase", ty.SectorErase, 10*time.Millisecond, time.Second),
		within("typical 64 KiB erase", ty.BlockErase, ty.SectorErase, 16*ty.SectorErase),
		within("max 64 KiB erase", mx.BlockErase, mx.SectorErase, 10*time.Second),
		within("max page program", mx.PageProgram, ty.PageProgram, 10*time.Millisecond),
		within("command", ty.CommandOverhead, time.Nanosecond, 10*time.Microsecond),
	} {
		if err != nil {
			return err
		}
	}
	for _, rate := range []int64{ty.ReadBytesPerSec, mx.ReadBytesPerSec} {
		if rate < 1_000_000 || rate > 100_000_000 {
			return fmt.Errorf("%s: bus rate %d B/s outside 1 to 100 MB/s", p.Name, rate)
		}
	}
	return nil
}

func TestPartTimingsPlausible(t *testing.T) {
	for _, p := range Parts() {
		require.NoError(t, implausible(p))
	}
	nor := mustPart(t, norName)
	for _, tc := range []struct {
		name   string
		modify func(p *Part)
		want   string
	}{
		{"max below typical", func(p *Part) { p.Max.SectorErase = p.Typical.SectorErase - 1 }, "max sector erase"},
		{"max far above typical", func(p *Part) { p.Max.PageProgram = 40 * p.Typical.PageProgram }, "over 32 times"},
		{"page program of 20 ms", func(p *Part) { p.Typical.PageProgram, p.Max.PageProgram = 20*time.Millisecond, 20*time.Millisecond }, "typical page program"},
		{"block erase faster than a sector", func(p *Part) { p.Typical.BlockErase, p.Max.BlockErase = p.Typical.SectorErase/2, p.Max.SectorErase }, "typical 64 KiB erase"},
		{"block erase slower than 16 sectors", func(p *Part) { p.Typical.BlockErase = 17 * p.Typical.SectorErase }, "typical 64 KiB erase"},
		{"bus of 1 GB/s", func(p *Part) { p.Typical.ReadBytesPerSec = 1e9 }, "bus rate"},
		{"no command time", func(p *Part) { p.Typical.CommandOverhead, p.Max.CommandOverhead = 0, 0 }, "command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := nor
			tc.modify(&p)
			require.ErrorContains(t, implausible(p), tc.want)
		})
	}
}

func TestEraseModel(t *testing.T) {
	for _, m := range EraseModels() {
		back, err := ParseEraseModel(m.String())
		require.NoError(t, err)
		require.Equal(t, m, back)
	}
	m, err := ParseEraseModel("64K")
	require.NoError(t, err)
	require.Equal(t, Erase64K, m)
	for _, bad := range []string{"", "32k", "4096", "64 k"} {
		_, err := ParseEraseModel(bad)
		require.ErrorIs(t, err, ErrUnknownEraseModel, bad)
		require.ErrorContains(t, err, "want 4k or 64k")
	}

	nor := mustPart(t, "mx66l1g45g")
	g, err := nor.GeometryFor(Erase64K)
	require.NoError(t, err)
	require.Equal(t, hal.Geometry{Name: "mx66l1g45g", Kind: hal.NOR, Size: 128 << 20, EraseSize: 64 << 10, WriteSize: 1, PageSize: 256}, g)
	g, err = nor.GeometryFor(Erase4K)
	require.NoError(t, err)
	require.Equal(t, nor.Geometry(), g)
	require.Equal(t, nor.Typical.BlockErase, nor.Typical.UnitErase(Erase64K))
	require.Equal(t, nor.Typical.SectorErase, nor.Typical.UnitErase(Erase4K))

	// A chip under the 64k model reports the 64 KiB erase size, as
	// /dev/mtd would, and erases (and wears) whole 64 KiB units.
	f, err := New(Options{Part: nor, Size: 1 << 20, EraseModel: Erase64K})
	require.NoError(t, err)
	require.Equal(t, int64(64<<10), f.Geometry().EraseSize)
	require.Equal(t, int64(16), f.Geometry().Blocks())
	require.ErrorIs(t, f.Erase(0, 4096), hal.ErrUnaligned)
	require.NoError(t, f.Erase(64<<10, 128<<10))
	require.Equal(t, []int64{0, 1, 1, 0}, []int64{f.Wear(0), f.Wear(1), f.Wear(2), f.Wear(3)})
	require.Equal(t, int64(2), f.Stats().Erases)

	nand := mustPart(t, nandName)
	_, err = nand.EraseUnit(Erase64K)
	require.ErrorContains(t, err, "for SPI NOR parts")
	unit, err := nand.EraseUnit(Erase4K)
	require.NoError(t, err)
	require.Equal(t, nand.EraseSize, unit)
}

// FuzzParseEraseModel: a name either parses to a model whose String parses
// back to it, or fails wrapping ErrUnknownEraseModel.
func FuzzParseEraseModel(f *testing.F) {
	for _, s := range []string{"4k", "64k", "64K", "", "128k", "4kk"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseEraseModel(s)
		if err != nil {
			require.ErrorIs(t, err, ErrUnknownEraseModel)
			return
		}
		back, err := ParseEraseModel(m.String())
		require.NoError(t, err)
		require.Equal(t, m, back)
	})
}
