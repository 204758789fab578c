package fwimage_test

import (
	"fmt"
	"os"

	"github.com/cmcsync/cmcsync/source/fwimage"
)

// Identify the image at the start of a boot partition (here a file made by
// mkimage; on a CMC an opened /dev/mtdN and its size).
func Example() {
	for _, name := range []string{"testdata/fit-embedded.itb", "testdata/uimage-uboot.bin"} {
		f, err := os.Open(name)
		if err != nil {
			fmt.Println(err)
			return
		}
		st, err := f.Stat()
		if err != nil {
			fmt.Println(err)
			return
		}
		id, err := fwimage.Identify(f, st.Size())
		f.Close()
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(id)
		fmt.Printf("  show %q; upgraded if the identity is not Same as the last one\n", id.Version)
	}
	// Output:
	// FIT "CMC firmware 2.14.0" version 2.14.0, built 2026-01-01T00:00:00Z, 1880 bytes, crc32 0xd698c632
	//   show "2.14.0"; upgraded if the identity is not Same as the last one
	// uImage "U-Boot 2019.04 for ast2600" version 2019.04, built 2026-01-01T00:00:00Z, 94 bytes, crc32 0xb01bef40
	//   show "2019.04"; upgraded if the identity is not Same as the last one
}
