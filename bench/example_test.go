package bench_test

import (
	"bytes"
	"fmt"

	"github.com/cmcsync/cmcsync/bench"
	"github.com/cmcsync/cmcsync/sim"
)

// The floor of syncing a 1 MiB region in which one SEL entry (16 bytes)
// was written into an erased sector: one page to program, the erased
// sector it consumes (at a sixteenth of a 64 KiB block erase), and the
// source read once at 25 MB/s.
func ExampleFloor() {
	part, _ := sim.LookupPart("w25q256jv")
	old := bytes.Repeat([]byte{0xFF}, 1<<20)
	new := bytes.Clone(old)
	copy(new[300000:], "SEL entry #4711!")
	c, _ := bench.Floor(old, new, bench.ModelOf(part, false), bench.Info{})
	fmt.Printf("erases %d, pages %d, read %d KiB, time %v\n", c.Erases, c.PagesProgrammed, c.BytesRead>>10, c.Time)
	// Output: erases 1, pages 1, read 1024 KiB, time 52.02066ms
}
