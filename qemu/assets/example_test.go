package assets_test

import (
	"fmt"

	"github.com/cmcsync/cmcsync/qemu/assets"
)

func ExampleParseControl() {
	f := assets.ParseControl([]byte("Package: linux-image-armmp\nVersion: 6.1.176-1\nDepends: linux-image-6.1.0-50-armmp (= 6.1.176-1)\n"))
	fmt.Println(f["Version"])
	fmt.Println(assets.ModuleName("drivers/spi/spi-aspeed-smc.ko.xz"))
	// Output:
	// 6.1.176-1
	// spi_aspeed_smc
}
