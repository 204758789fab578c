package scenario_test

import (
	"fmt"

	"github.com/cmcsync/cmcsync/qemu/scenario"
)

func ExampleNames() {
	for _, n := range scenario.Names() {
		fmt.Printf("%s: %s\n", n, scenario.About(n))
	}
	// Output:
	// calibrate: cmcsync calibrate on a scratch range of /dev/mtd6 (flash1); the host benchmarks the (emulated) profile
	// daemon-powercut: cmcsync serve in the guest on a CMC flash layout (TLS, token, forwarded port); SIGKILL QEMU at seeded moments during API syncs; the host checks recovery and the stores with the reference decoder
	// diff: cut points of the exhaustive campaign, each in QEMU (stopped and SIGKILLed at the exact operation) and in the simulator: same operations, chips, backup and verdicts
	// nand: x86 guest: the engine on nandsim NAND with bad blocks and bit flips
	// nand-diff: x86 guest on nandsim: cut points of the exhaustive nand campaign (factory bad blocks, one the round steps over; a bit flip the kernel's ECC corrects and counts), each stopped at the exact operation, the chips saved and QEMU killed, and run in the simulator: same operations, chips, backup and verdicts
	// powercut: SIGKILL QEMU at seeded moments during rounds, or stop and kill it at the exact operation of a campaign replay line (--schedule); reboot; host checks the invariants
	// selftest: hal/haltest conformance suite on /dev/mtd6 (flash1) in the guest
	// sync: one engine round from flash0 to flash1 through hal/mtd; host compares digests
}
