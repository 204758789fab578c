package guest_test

import (
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/qemu/guest"
)

// The host builds the guest's command line, then finds the lines the
// service printed among the console's other output.
func Example() {
	c := guest.DefaultCommand()
	c.Rounds, c.Seed, c.Activity = 0, 7, 2*time.Hour
	c.Hold, c.TraceWrites = true, true
	fmt.Println(c)

	console := "cmc# " + c.String() + "\n" +
		`GUEST {"event":"open","elapsed_seconds":0.8125,"generation":4}` + "\n" +
		"[   41.100000] random: crng init done\n" +
		`GUEST {"generation":4,"round":1,"event":"round-start"}` + "\n"
	lines, err := guest.Parse(console)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range lines {
		fmt.Printf("%s round=%d generation=%d after %v\n", l.Event, l.Round, l.Generation, l.Elapsed())
	}
	fmt.Println(lines[1].Is(guest.EventRoundStart, 1))
	// Output:
	// cmcsync guest --primary mtd:/dev/mtd5 --backup mtd:/dev/mtd6 --rounds 0 --seed 7 --activity 2h0m0s --trace-writes --hold
	// open round=0 generation=4 after 812.5ms
	// round-start round=1 generation=4 after 0s
	// true
}
