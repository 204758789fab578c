package info_test

import (
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/info"
)

// A CMC's primary chip: a firmware image at offset 0 and a 1 MiB information
// region after it, written by a seeded generator.
func Example() {
	part, _ := sim.LookupPart("w25q256jv")
	chip, _ := sim.New(sim.Options{Part: part, Size: 4 << 20, Name: "primary"})

	_ = info.WriteImage(chip, info.ImageHeader{Version: "2.10.1", Size: 1 << 20,
		Built: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, 1)
	fmt.Println("image ok:", info.VerifyImage(chip) == nil)

	const off, size = 2 << 20, 1 << 20
	if err := info.FormatRegion(chip, off, size); err != nil {
		fmt.Println(err)
		return
	}
	region, _ := info.OpenRegion(chip, off, size)
	gen := info.NewGenerator(42)
	_ = gen.Populate(region)
	_ = gen.Step(region, info.TypicalInterval)

	for _, t := range info.All() {
		rec, _ := region.Read(t)
		extOff, extSize := region.Extent(t)
		fmt.Printf("%-9s at %#x, %4d KiB extent, seq %d\n", t, extOff, extSize>>10, rec.Seq)
	}
	fmt.Println(info.EventLog.Explanation().Title)
	// Output:
	// image ok: true
	// power     at 0x201000,  128 KiB extent, seq 3
	// fan       at 0x221000,  128 KiB extent, seq 3
	// node      at 0x241000,   76 KiB extent, seq 3
	// event-log at 0x254000,  400 KiB extent, seq 3
	// fault-log at 0x2b8000,  260 KiB extent, seq 3
	// asset     at 0x2f9000,   28 KiB extent, seq 2
	// Node event log (SEL)
}
