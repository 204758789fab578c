package mtd_test

import (
	"errors"
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/hal/mtd"
	"github.com/cmcsync/cmcsync/hal/mtd/mtdfake"
)

// OpenWith runs the backend over any system-call layer; here the fake
// kernel stands in for /dev/mtd0. On a CMC, mtd.Open("/dev/mtd6") is the
// same over the real kernel.
func ExampleOpenWith() {
	kernel := mtdfake.New()
	path := kernel.Add(mtdfake.NOR("flash1", 128<<20, 4<<10))

	d, err := mtd.OpenWith(path, kernel)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	fmt.Println(d.Geometry())

	if err := d.Erase(0x1000, 0x1000); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := d.WriteAt([]byte("cmc"), 0x1000); err != nil {
		fmt.Println(err)
		return
	}
	buf := make([]byte, 4)
	_, _ = d.ReadAt(buf, 0x1000)
	fmt.Printf("%q\n", buf)

	err = d.Erase(0x1800, 0x1000)
	fmt.Println(err, errors.Is(err, hal.ErrUnaligned))
	// Output:
	// flash1 nor 128MiB erase=4KiB write=1 page=256
	// "cmc\xff"
	// erase flash1 [0x1800+0x1000]: unaligned: offset and length must be positive multiples of the erase size 4096 true
}
