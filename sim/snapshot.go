package sim

import (
	"fmt"
	"math/rand/v2"

	"github.com/cmcsync/cmcsync/hal"
)

// Snapshot is a frozen state of a chip: contents, wear, bad blocks,
// unstable ranges, NAND program state, statistics and the random state of
// unstable reads (so a replay after Restore reads the same values). It is
// immutable and may be restored any number of times, into the chip it came
// from or another chip of the same geometry. Snapshots share unchanged
// block buffers with each other and with the live chip.
type Snapshot struct {
	chunks []*chunk
	stats  hal.Stats
	rng    rand.PCG
	geo    hal.Geometry
}

// Stats returns the chip's statistics when the snapshot was taken.
func (s *Snapshot) Stats() hal.Stats { return s.stats }

// Snapshot freezes the chip's current state and returns it. It costs O(1):
// the block table is shared, and the chip copies a table chunk and a block
// buffer only when it first changes them afterwards, so the total cost is
// proportional to the blocks touched between snapshots, not to the chip
// size. The clock is not part of the snapshot.
func (f *Flash) Snapshot() *Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.freeze()
	return &Snapshot{chunks: f.chunks, stats: f.stats, rng: f.rng, geo: f.geo}
}

// freeze makes everything the chip holds shared: later changes copy first.
func (f *Flash) freeze() {
	f.topShared = true
	f.epoch = epochs.Add(1)
	f.ownedChunks = f.ownedChunks[:0]
}

// recycle keeps the live state's own table, chunks and block buffers (those
// made since the last freeze, which no snapshot references) for reuse; the
// caller is about to drop the live state.
func (f *Flash) recycle() {
	if !f.topShared && f.spareTop == nil {
		f.spareTop = f.chunks
	}
	keep := max(maxSpare, int(maxSpareBytes/max(f.geo.EraseSize, 1)))
	for _, ci := range f.ownedChunks {
		c := f.chunks[ci]
		for i := range c.blocks {
			if bl := &c.blocks[i]; bl.data != nil && bl.owner == f.epoch && len(f.spareData) < keep {
				f.spareData = append(f.spareData, bl.data)
			}
		}
		if len(f.spareChunks) < maxSpare {
			f.spareChunks = append(f.spareChunks, c)
		}
	}
}

// Restore sets the chip back to s: contents, wear, bad blocks, unstable
// ranges, NAND program state, statistics and unstable-read random state. It
// does not move the clock back (virtual time only advances). It costs O(1)
// for an in-memory chip; a chip backed by an image file also writes the
// blocks that differ to the file. s must come from a chip with the same
// kind, size, erase size and page size, else Restore panics.
func (f *Flash) Restore(s *Snapshot) {
	if s == nil {
		panic("sim: Restore of a nil snapshot")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.geo
	if s.geo.Kind != g.Kind || s.geo.Size != g.Size || s.geo.EraseSize != g.EraseSize || s.geo.PageSize != g.PageSize {
		panic(fmt.Sprintf("sim: Restore of a snapshot of %v into a different chip %v", s.geo, g))
	}
	if f.file != nil && !f.closed {
		f.file.restore(f, s.chunks)
	}
	f.recycle()
	f.chunks = s.chunks
	f.stats = s.stats
	f.rng = s.rng
	f.freeze()
}
