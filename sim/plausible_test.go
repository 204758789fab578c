package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCheckPlausible(t *testing.T) {
	for _, p := range Parts() {
		require.NoError(t, p.CheckPlausible(), p.Name)
	}
	nor, nand := mustPart(t, norName), mustPart(t, nandName)
	for _, tc := range []struct {
		name   string
		part   Part
		modify func(p *Part)
		want   string
	}{
		{"instant erase (an emulator)", nor, func(p *Part) { p.Typical.SectorErase = 80 * time.Microsecond },
			"typical sector erase 80µs is faster than 1ms"},
		{"erase of a minute", nor, func(p *Part) { p.Max.BlockErase = time.Minute }, "max block erase 1m0s is slower than 30s"},
		{"page program at bus speed", nor, func(p *Part) { p.Typical.PageProgram = 2 * time.Microsecond },
			"typical page program 2µs is faster than 10µs"},
		{"page program of a second", nor, func(p *Part) { p.Max.PageProgram = time.Second }, "max page program 1s is slower than 100ms"},
		{"zero page program", nor, func(p *Part) { p.Typical.PageProgram = 0 }, "typical page program 0s is not positive"},
		{"max below typical", nor, func(p *Part) { p.Max.SectorErase = p.Typical.SectorErase - time.Millisecond }, "max sector erase 63ms is below its typical 64ms"},
		{"bus above 4 lines at 50 MHz", nor, func(p *Part) { p.Typical.ReadBytesPerSec = 30_000_000 },
			"typical bus rate 30000000 B/s is above 25000000 B/s (4 lines at 50 MHz)"},
		{"bus above octal DTR", nor, func(p *Part) { p.Bus = Bus{}; p.Typical.ReadBytesPerSec = 500_000_000 }, "above 400000000 B/s (octal DTR"},
		{"clock above 200 MHz", nor, func(p *Part) { p.Bus.ClockHz = 300_000_000 }, "bus clock 300 MHz is above 200 MHz"},
		{"max corner faster bus", nor, func(p *Part) { p.Typical.ReadBytesPerSec = 20_000_000 }, "max-corner bus rate 25000000 B/s is above the typical"},
		{"zero bus rate", nor, func(p *Part) { p.Max.ReadBytesPerSec = 0 }, "max bus rate 0 B/s is not positive"},
		{"no command time", nor, func(p *Part) { p.Typical.CommandOverhead = 0 }, "typical command overhead 0s is shorter than one byte on the bus (40ns)"},
		{"block erase time without block", nor, func(p *Part) { p.BlockEraseSize = 0 }, "typical block erase 160ms given without a block erase size"},
		{"nand read of 1 µs", nand, func(p *Part) { p.Typical.PageRead = time.Microsecond }, "typical page read 1µs is faster than 2µs"},
		{"nand without page read", nand, func(p *Part) { p.Typical.PageRead, p.Max.PageRead = 0, 0 }, "typical page read 0s is not positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.part
			tc.modify(&p)
			err := p.CheckPlausible()
			require.ErrorIs(t, err, ErrImplausible)
			require.ErrorContains(t, err, tc.want)
		})
	}
	// Every problem is listed, not only the first.
	p := nor
	p.Typical.SectorErase, p.Typical.PageProgram = 0, 0
	err := p.CheckPlausible()
	require.ErrorContains(t, err, `part "w25q256jv": physically implausible for NOR flash: typical page program 0s is not positive; typical sector erase 0s is not positive`)
}

func TestBus(t *testing.T) {
	require.Equal(t, int64(25_000_000), Bus{Lines: 4, ClockHz: 50_000_000}.MaxBytesPerSec())
	require.Equal(t, int64(400_000_000), Bus{Lines: 8, ClockHz: 200_000_000, DTR: true}.MaxBytesPerSec())
	require.Zero(t, Bus{Lines: 4}.MaxBytesPerSec())
	require.False(t, Bus{ClockHz: 1}.Known())
}
