package hal_test

import (
	"errors"
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
)

// Backends validate every operation with the Check helpers before touching
// the device, and callers branch on the sentinel with errors.Is.
func Example() {
	g := hal.Geometry{Name: "flash1", Kind: hal.NOR, Size: 128 << 20, EraseSize: 4 << 10, WriteSize: 1, PageSize: 256}
	if err := g.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(g, "blocks:", g.Blocks())

	err := hal.CheckErase(g, 0x1000, 0x800)
	fmt.Println(err)
	fmt.Println("unaligned:", errors.Is(err, hal.ErrUnaligned))

	var oe *hal.OpError
	if errors.As(hal.CheckRange(g, "read", g.Size-1, 2), &oe) {
		fmt.Println(oe.Op, errors.Is(oe, hal.ErrOutOfRange))
	}
	// Output:
	// flash1 nor 128MiB erase=4KiB write=1 page=256 blocks: 32768
	// erase flash1 [0x1000+0x800]: unaligned: offset and length must be positive multiples of the erase size 4096
	// unaligned: true
	// read true
}
