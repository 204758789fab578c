package haltest_test

import (
	"fmt"

	"github.com/cmcsync/cmcsync/hal/haltest"
	"github.com/cmcsync/cmcsync/sim"
)

// Check runs the conformance checks on one device, as `cmcsync selftest`
// does on a real chip.
func ExampleCheck() {
	part, _ := sim.LookupPart("w25q256jv")
	f, _ := sim.New(sim.Options{Part: part, Size: 1 << 20, Name: "flash0"})
	defer f.Close()

	rep, err := haltest.Check(f)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rep.Results[:3] {
		fmt.Println(r.Status, r.Name)
	}
	fmt.Println(rep.Passed(), "passed")
	// Output:
	// pass geometry
	// pass erase-to-ff
	// pass erase-range
	// 17 passed
}
