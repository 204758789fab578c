package bench_test

import (
	"bytes"
	"fmt"

	"github.com/cmcsync/cmcsync/bench"
	"github.com/cmcsync/cmcsync/sim"
)

// The floors of syncing a 1 MiB region in which one SEL entry (16 bytes)
// was written into an erased sector, on a W25Q256JV under the 4k erase
// model. The rewrite floor reads the region (at 25 MB/s), programs one
// page and pays the erased sector it consumes (one sector erase: Linux
// erases nothing larger). The physical floor reads and programs only the
// 16 bytes and pays a sixteenth of a sector erase for the page.
func ExampleRewriteFloor() {
	part, _ := sim.LookupPart("w25q256jv")
	m, _ := bench.ModelOf(part, false, sim.Erase4K)
	old := bytes.Repeat([]byte{0xFF}, 1<<20)
	new := bytes.Clone(old)
	copy(new[300000:], "SEL entry #4711!")
	c, _ := bench.RewriteFloor(old, new, m, bench.Info{})
	fmt.Printf("rewrite floor: erases %d, pages %d, read %d KiB, time %v\n", c.Erases, c.PagesProgrammed, c.BytesRead>>10, c.Time)
	p, _ := bench.PhysicalFloor(bench.ChangedBytes(old, new), m)
	fmt.Printf("physical floor: erases %.4f, pages %d, read %d B, latency %v, device %v\n", p.Erases, p.PagesProgrammed, p.BytesRead, p.Latency, p.Device)
	// Output:
	// rewrite floor: erases 1, pages 1, read 1024 KiB, time 106.65056ms
	// physical floor: erases 0.0625, pages 1, read 16 B, latency 707.2µs, device 4.70726ms
}
