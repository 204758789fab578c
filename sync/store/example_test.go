package store_test

import (
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/store"
)

// A store on a simulated chip: format, one round of one 10,000-byte
// payload, a power cut in the middle of the next round, recovery.
func Example() {
	part, _ := sim.LookupPart("mx66l1g45g")
	chip, _ := sim.New(sim.Options{Part: part, Size: 4 << 20})
	const off, size = 1 << 20, 3 << 20
	_ = store.Format(chip, off, size, store.FormatOptions{ChipID: 1, MaxChunks: 100, Time: time.Unix(0, 0)})
	s, _ := store.Open(chip, off, size, store.Options{})

	sync := func(gen uint64, payload []byte, cut bool) {
		chunks, _ := store.DigestPayload(payload, 0, s.ChunkSize())
		r, err := s.Begin(store.Plan{Generation: gen, Types: []store.TypePlan{{Type: 1, Size: int64(len(payload)), Chunks: chunks}}})
		if err != nil {
			fmt.Println(err)
			return
		}
		for i, w := range r.Writes() {
			if cut && i == 1 {
				return // power lost: no commit
			}
			lo, hi := store.ChunkBounds(int64(len(payload)), 0, s.ChunkSize(), w.Index)
			_, _, _ = r.Write(i, payload[lo:hi])
		}
		_ = r.Commit(store.State{Generation: gen})
	}
	p := make([]byte, 10000)
	sync(1, p, false)
	p[9000] = 1
	p[100] = 1
	sync(2, p, true)

	s, _ = store.Open(chip, off, size, store.Options{}) // restart
	in := s.Interrupted()
	fmt.Printf("committed generation %d; interrupted round %d touched %d blocks\n", s.State().Generation, in.Generation, len(in.Blocks))
	res, _ := s.Purge()
	fmt.Printf("purged %d blocks: %d erased and read back erased\n", len(res.Blocks), res.Erased)
	// Output:
	// committed generation 1; interrupted round 2 touched 2 blocks
	// purged 2 blocks: 2 erased and read back erased
}
