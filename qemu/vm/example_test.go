package vm_test

import (
	"fmt"
	"strings"

	"github.com/cmcsync/cmcsync/qemu/assets"
	"github.com/cmcsync/cmcsync/qemu/vm"
)

func ExampleConfig_Command() {
	m := &assets.Manifest{Variant: "arm", Dir: "/cache/arm", Kernel: "vmlinuz", DTB: "fuji.dtb"}
	prog, args, err := vm.Config{Manifest: m, Initrd: "initrd.gz", Flash: []string{"primary.img", "backup.img"}}.Command()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(prog, strings.Join(args[:2], " "))
	// Output: qemu-system-arm -M fuji-bmc
}
