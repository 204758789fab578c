package campaign

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/engine"
)

func TestDebugCase(t *testing.T) {
	line := os.Getenv("CASE")
	if line == "" {
		t.Skip("set CASE")
	}
	ctx := context.Background()
	c, err := ParseCase(line)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := loadBench(ctx, c.Scenario, c.Seed, c.Mutant)
	w, _ := newWorker(b)
	w.chips[0].Restore(b.base[0])
	w.chips[1].Restore(b.base[1])
	w.hc.set(b.at)
	ph, wa, wb := w.newPhase(c.Round, true)
	opts := b.options(w.hc, b.mutant)
	opts.Logf = func(f string, a ...any) { fmt.Printf("  round log: "+f+"\n", a...) }
	e, _ := engine.Open(ctx, wa, wb, opts)
	ph.in.Arm()
	rep, err := e.Round(ctx)
	fmt.Println("round:", rep.Outcome, err)
	for _, op := range ph.ops {
		if op.Kind != faults.Read {
			fmt.Println("  ", op)
		}
	}
	fmt.Println("fired:", ph.in.Fired())
	rph, ra, rb := w.newPhase(c.Recovery, false)
	opts.Logf = func(f string, a ...any) { fmt.Printf("  rec1 log: "+f+"\n", a...) }
	_, err = engine.Open(ctx, ra, rb, opts)
	fmt.Println("rec1:", err)
	for _, op := range rph.ops {
		fmt.Println("  ", op)
	}
	fmt.Println("fired:", rph.in.Fired())
	opts.Logf = func(f string, a ...any) { fmt.Printf("  rec2 log: "+f+"\n", a...) }
	r2, r2a, r2b := w.newPhase(faults.Schedule{}, false)
	_, err = engine.Open(ctx, r2a, r2b, opts)
	fmt.Println("rec2:", err)
	for _, op := range r2.ops {
		fmt.Println("  ", op)
	}
}
