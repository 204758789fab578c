package sim_test

import (
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/sim"
)

// Program 1 MiB into an erased W25Q256JV, erase 64 KiB of it, and see how
// long the chip took in virtual time; then undo it all with a snapshot.
func Example() {
	part, err := sim.LookupPart("w25q256jv")
	if err != nil {
		panic(err)
	}
	clock := sim.NewClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	f, err := sim.New(sim.Options{Part: part, Size: 4 << 20, Clock: clock, Name: "flash1"})
	if err != nil {
		panic(err)
	}
	blank := f.Snapshot()

	data := make([]byte, 1<<20)
	if _, err := f.WriteAt(data, 0); err != nil {
		panic(err)
	}
	if err := f.Erase(0, 64<<10); err != nil {
		panic(err)
	}
	// 4096 × (0.704 ms page program + 0.96 µs command) + 1 MiB at 25 MB/s
	// + 16 sector erases (64 ms + 0.96 µs each): under the default erase
	// model, as Linux with 4 KiB sectors erases, a 64 KiB erase is 16
	// commands (sim.Options.EraseModel).
	st := f.Stats()
	fmt.Println(f.Geometry())
	fmt.Printf("pages programmed: %d, erase blocks erased: %d\n", st.PagesProgrammed, st.Erases)
	fmt.Printf("chip time: %v, clock: %s\n", st.Elapsed, clock.Now().Format(time.TimeOnly+".000"))

	_, err = f.WriteAt([]byte{0xFF}, 4<<20)
	fmt.Println(err)

	f.Restore(blank)
	b := make([]byte, 1)
	f.ReadAt(b, 1<<16)
	fmt.Printf("after restore: %#x, wear %d\n", b[0], f.MaxWear())
	// Output:
	// flash1 nor 4MiB erase=4KiB write=1 page=256
	// pages programmed: 4096, erase blocks erased: 16
	// chip time: 3.95347456s, clock: 12:00:03.953
	// program flash1 [0x400000+0x1]: out of range: device is 0x400000 bytes
	// after restore: 0xff, wear 0
}
