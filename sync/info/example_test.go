package info_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/info"
)

// A CMC's primary chip: a firmware image at offset 0 and a 1 MiB information
// region after it, where a service appends one entry to the event log.
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

	// The SEL service: size the ring for the extent, append, write back.
	rec, _ := region.Read(info.EventLog)
	sel, _ := info.DecodeTable(info.EventLog, bytes.Clone(rec.Payload))
	sel = sel.Resized(info.RingSlots(info.EventLog, region.Capacity(info.EventLog)))
	sel.Add(make([]byte, info.SELEntrySize))
	if err := region.Rewrite(rec, sel.Encode()); err != nil {
		fmt.Println(err)
		return
	}

	for _, t := range info.All() {
		rec, _ := region.Read(t)
		extOff, extSize := region.Extent(t)
		d, _ := info.DescribePayload(t, rec.Payload)
		fmt.Printf("%-9s at %#x, %4d KiB extent, seq %d, %d of %d entries\n", t, extOff, extSize>>10, rec.Seq, d.Entries, d.Slots)
	}
	fmt.Println(info.EventLog.Explanation().Title)
	// Output:
	// image ok: true
	// power     at 0x207000,  128 KiB extent, seq 1, 0 of 0 entries
	// fan       at 0x227000,  128 KiB extent, seq 1, 0 of 0 entries
	// node      at 0x247000,   76 KiB extent, seq 1, 0 of 0 entries
	// event-log at 0x25a000,  380 KiB extent, seq 2, 1 of 24315 entries
	// fault-log at 0x2b9000,  256 KiB extent, seq 1, 0 of 0 entries
	// asset     at 0x2f9000,   28 KiB extent, seq 1, 0 of 0 entries
	// Node event log (SEL)
}
