package calibrate_test

import (
	"context"
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/calibrate"
	"github.com/cmcsync/cmcsync/sim"
)

// Calibrate a simulated MT25QL256 whose operations spread between the
// datasheet's typical and maximum times, on a 1 MiB scratch range, and
// compare the profile's typical figures with the table's.
func Example() {
	part, err := sim.LookupPart("mt25ql256")
	if err != nil {
		panic(err)
	}
	chip, err := sim.New(sim.Options{Part: part, Size: 4 << 20, Spread: true, Seed: 1})
	if err != nil {
		panic(err)
	}
	scratch, err := calibrate.ParseRange("1M+1M")
	if err != nil {
		panic(err)
	}
	res, err := calibrate.Run(context.Background(), chip, calibrate.DefaultPlan(scratch), chip.Clock(), nil)
	if err != nil {
		panic(err)
	}
	pr, err := res.Profile(calibrate.Meta{Device: "sim:part=mt25ql256,timing=spread", At: time.Unix(0, 0), Clock: "virtual"})
	if err != nil {
		panic(err)
	}
	got, err := pr.Part()
	if err != nil {
		panic(err)
	}
	fmt.Println(pr.Name, pr.Source)
	fmt.Printf("page program: table %v, calibrated %v\n", part.Typical.PageProgram, got.Typical.PageProgram.Round(time.Microsecond))
	fmt.Printf("sector erase: table %v, calibrated %v\n", part.Typical.SectorErase, got.Typical.SectorErase.Round(100*time.Microsecond))
	fmt.Printf("bus: %d B/s, plausible: %v\n", got.Typical.ReadBytesPerSec, got.CheckPlausible() == nil)
	// Output:
	// calibrated-mt25ql256 calibrated on sim:part=mt25ql256,timing=spread at 1970-01-01T00:00:00Z
	// page program: table 120µs, calibrated 120µs
	// sector erase: table 48ms, calibrated 48ms
	// bus: 25000000 B/s, plausible: true
}
