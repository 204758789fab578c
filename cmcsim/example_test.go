package cmcsim_test

import (
	"fmt"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/info"
)

// A simulated CMC fills a 1 MiB information region, then runs for one
// typical sync interval.
func Example() {
	part, _ := sim.LookupPart("w25q256jv")
	chip, _ := sim.New(sim.Options{Part: part, Size: 1 << 20, Name: "primary"})
	if err := info.FormatRegion(chip, 0, 1<<20); err != nil {
		fmt.Println(err)
		return
	}
	region, _ := info.OpenRegion(chip, 0, 1<<20)

	gen := cmcsim.New(42)
	if err := gen.Populate(region); err != nil {
		fmt.Println(err)
		return
	}
	if err := gen.Step(region, cmcsim.TypicalInterval); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("now:", gen.Now().Format("2006-01-02 15:04"))
	for _, t := range info.All() {
		rec, _ := region.Read(t)
		d, _ := info.DescribePayload(t, rec.Payload)
		fmt.Printf("%-9s seq %d, %5d of %5d entries\n", t, rec.Seq, d.Entries, d.Slots)
	}
	// Output:
	// now: 2026-01-01 00:10
	// power     seq 3,  6611 of  8163 entries
	// fan       seq 3,  6621 of  8175 entries
	// node      seq 3,  3809 of  4732 entries
	// event-log seq 3, 19646 of 24315 entries
	// fault-log seq 3,  3299 of  4094 entries
	// asset     seq 2,     0 of     0 entries
}
