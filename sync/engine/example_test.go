package engine_test

import (
	"context"
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// Two simulated MX66L1G45G chips on one virtual clock: format them, let the
// CMC fill the primary's information, sync, let the CMC work for ten
// minutes, sync again.
func Example() {
	part, _ := sim.LookupPart("mx66l1g45g")
	clock := sim.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	a, _ := sim.New(sim.Options{Part: part, Size: 8 << 20, Clock: clock, Name: "flash0"})
	b, _ := sim.New(sim.Options{Part: part, Size: 8 << 20, Clock: clock, Name: "flash1"})
	layout, _ := engine.DefaultLayout(a.Geometry(), 1<<20)
	opts := engine.Options{Clock: clock, Layout: layout, Config: engine.DefaultConfig()}
	gen := cmcsim.New(1)
	if _, err := engine.FormatAndFill(a, b, opts, gen.Populate); err != nil {
		fmt.Println(err)
		return
	}
	region, _ := info.OpenRegion(a, layout.InfoOff, layout.InfoSize)

	ctx := context.Background()
	e, err := engine.Open(ctx, a, b, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 2 {
		rep, err := e.Round(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("generation %d: %s, %d types changed\n", rep.Generation, rep.Outcome, len(rep.ChangedTypes))
		_ = gen.Step(region, 10*time.Minute)
	}
	st := e.Status()
	fmt.Printf("active %s, next sync in %v\n", st.Active, st.NextSync.Sub(st.LastSync))
	// Output:
	// generation 1: committed, 6 types changed
	// generation 2: committed, 5 types changed
	// active primary, next sync in 5m0s
}
