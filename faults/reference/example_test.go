package reference_test

import (
	"context"
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// The engine syncs a pair of simulated chips; the reference decoder reads
// the backup chip's store on its own, and checks every committed chunk.
// Then one bit of a chunk flips: VerifyChunks names it.
func Example() {
	part, _ := sim.LookupPart("mx66l1g45g")
	clock := sim.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	a, _ := sim.New(sim.Options{Part: part, Size: 8 << 20, Clock: clock, Name: "flash0"})
	b, _ := sim.New(sim.Options{Part: part, Size: 8 << 20, Clock: clock, Name: "flash1"})
	opts := engine.Options{Clock: clock, Config: engine.DefaultConfig()}
	opts.Layout, _ = engine.DefaultLayout(a.Geometry(), 1<<20)
	layout, _ := engine.FormatAndFill(a, b, opts, cmcsim.New(1).Populate)
	e, _ := engine.Open(context.Background(), a, b, opts)
	_, _ = e.Round(context.Background())

	backup, err := reference.Decode(b, layout.StoreOff, layout.StoreSize)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("area %d epoch %d: generation %d, %d types, %d records, damaged %v\n",
		backup.Area, backup.Epoch, backup.Committed.Generation, len(backup.Committed.Types), len(backup.Journal), backup.Damaged())
	bad, _ := backup.VerifyChunks(b)
	fmt.Println("bad chunks:", len(bad))

	fan, _ := backup.Committed.Type(uint8(info.Fan))
	blk := fan.Chunks[0].Block
	off := layout.StoreOff + (int64(backup.Superblock.DataFirst)+int64(blk))*backup.Superblock.EraseSize
	p := make([]byte, 1)
	_, _ = b.ReadAt(p, off)
	b.Poke(off, []byte{p[0] ^ 1})
	bad, _ = backup.VerifyChunks(b)
	for _, c := range bad {
		fmt.Printf("type %d chunk %d in data block %d: bad\n", c.Type, c.Index, c.Block)
	}
	// Output:
	// area 0 epoch 1: generation 1, 6 types, 7 records, damaged false
	// bad chunks: 0
	// type 2 chunk 0 in data block 40: bad
}
