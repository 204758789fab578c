package flashspec_test

import (
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/internal/flashspec"
)

func Example() {
	spec, err := flashspec.Parse("sim:part=W25Q256JV,size=4096K,name=flash0")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(spec)

	f, err := flashspec.Open(spec, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer hal.Close(f)
	fmt.Println(f.Geometry())

	_, err = flashspec.Parse("sim:part=w25q256jv,speed=fast")
	fmt.Println(err)
	// Output:
	// sim:part=w25q256jv,size=4M,name=flash0
	// flash0 nor 4MiB erase=4KiB write=1 page=256
	// flash spec "sim:part=w25q256jv,speed=fast": unknown key "speed" (allowed: part, size, file, timing, name, erase, profile)
}
