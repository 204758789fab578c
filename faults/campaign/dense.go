package campaign

import (
	"context"
	"fmt"
	"slices"

	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// Dense deltas ("dense", "denselimit"): instead of the CMC's activity,
// every round of the scenario's history and the round under test change
// one run of Scenario.ScatterRun bytes in every chunk of every type (at a
// place that moves from round to round), so each round writes a delta
// record of 13 + ScatterRun bytes for every such chunk: with runs of 115
// bytes, records of 128 bytes, 32 to a delta block, which they fill
// exactly, and a chain of 32 of them (the delta-chain limit) holds
// exactly a chunk's worth of bytes; the delta budget and the record cap
// fold chunks along the way. Scenario.DenseRounds such rounds run between
// the first sync and the round under test.

// scatter changes sc's types' payloads on the primary's region for round
// number round: one run of sc.ScatterRun bytes in every chunk of at least
// 2 KiB, at a place inside it that depends on round (each byte inverted
// in some bits, so the run differs from the committed chunk throughout and
// makes a compact delta record of 10 + 3 + ScatterRun bytes, docs/FORMAT.md
// 4.14), and writes the records back.
func scatter(region *info.Region, sc Scenario, round int) error {
	e := region.ChangeUnit()
	for _, t := range sc.Types {
		rec, err := region.Read(t)
		if err != nil {
			return fmt.Errorf("scatter: read %v: %w", t, err)
		}
		p := slices.Clone(rec.Payload)
		off, _ := region.Extent(t)
		phase := (off + recordHeaderSize) % e
		size := int64(len(p))
		for i := range reference.ChunkCount(size, phase, e) {
			lo, hi := reference.ChunkBounds(size, phase, e, i)
			if hi-lo < 2048 {
				continue
			}
			at := lo + 64 + int64(round*37)%(hi-lo-sc.ScatterRun-128)
			for j := at; j < at+sc.ScatterRun; j++ {
				p[j] ^= byte(round) | 1
			}
		}
		write := region.Write
		if sc.StaleTable {
			write = func(t info.Type, p []byte) error { return writeStaleTable(region, t, p) }
		}
		if err := write(t, p); err != nil {
			return fmt.Errorf("scatter: write %v: %w", t, err)
		}
	}
	return nil
}

// recordHeaderSize is the size of an information record's header before
// its payload, which starts its erase-aligned extent (docs/FORMAT.md, 3).
const recordHeaderSize = 32

// denseHistory runs the scenario's DenseRounds rounds of scattered
// changes on the engine after its first sync.
func denseHistory(ctx context.Context, sc Scenario, e *engine.Engine, region *info.Region) error {
	for k := 1; k <= sc.DenseRounds; k++ {
		if err := scatter(region, sc, k); err != nil {
			return err
		}
		if _, err := e.Round(ctx); err != nil {
			return fmt.Errorf("dense history round %d: %w", k, err)
		}
	}
	return nil
}
