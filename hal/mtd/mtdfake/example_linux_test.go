package mtdfake_test

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/cmcsync/cmcsync/hal/mtd/mtdfake"
)

// The fake kernel answers the real request numbers with the kernel's
// structures and return values.
func Example() {
	k := mtdfake.New()
	path := k.Add(mtdfake.NAND("nand0", 1<<20, 16<<10, 512))
	k.SetBad(0, 2)

	fd, _ := k.Open(path, unix.O_RDWR)
	info := make([]byte, 32) // struct mtd_info_user
	_, _ = k.Ioctl(fd, unix.MEMGETINFO, info)
	fmt.Println("type", info[0], "erasesize", binary.NativeEndian.Uint32(info[12:]))

	off := make([]byte, 8) // loff_t
	binary.NativeEndian.PutUint64(off, 2*16<<10)
	bad, _ := k.Ioctl(fd, unix.MEMGETBADBLOCK, off)
	fmt.Println("block 2 bad:", bad)

	_, err := k.Pwrite(fd, []byte{1, 2, 3}, 0)
	fmt.Println("partial NAND page:", err)
	name, _ := k.ReadFile("/sys/class/mtd/mtd0/name")
	fmt.Printf("sysfs name: %q\n", name)
	fmt.Println(k.Calls()[1])
	// Output:
	// type 4 erasesize 16384
	// block 2 bad: 1
	// partial NAND page: invalid argument
	// sysfs name: "nand0\n"
	// MEMGETINFO fd=3
}
