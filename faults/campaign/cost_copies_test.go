package campaign

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TestCostJudgeCountsSkippedCopies: a journal record whose read-backs
// fail is written again at the start of the next block with the same
// sequence number (docs/FORMAT.md 4.7, Verifying programs and erases);
// on NAND the copy left behind may read valid, the reader takes it and
// skips the copy (4.6 step 3, copies). The round erased the next block and
// programmed the copy there: records it wrote, which the bounded-cost
// judge must count (it once reported "erased journal blocks that receive
// none of its records" on such a round, replay line in
// testdata/regressions.txt). An erase of a block that receives nothing,
// and a program outside the record and its copy, must still fire.
func TestCostJudgeCountsSkippedCopies(t *testing.T) {
	f := simtest.Chip(t, "mx66l1g45g", sim.Options{Size: 4 << 20, Name: "backup"})
	require.NoError(t, store.Format(f, reviewStoreOff, reviewStoreSize, store.FormatOptions{
		ChipID: 1, PairID: 42, Time: time.Unix(1000, 0), MaxChunks: 250,
		Config: store.Config{Types: []uint8{1}, Interval: time.Minute, Threshold: time.Second},
	}))
	rng := rand.New(rand.NewPCG(9, 9))
	p := make([]byte, 40_000)
	for i := range p {
		p[i] = byte(rng.Uint32())
	}
	reviewRound(t, f, 1, p)
	before := reviewView(t, f)
	p[5000] ^= 1
	ops := reviewRound(t, f, 2, p)
	after := reviewView(t, f)
	require.Empty(t, judgeCost(before, after, costWrites{phase: "round", chip: 1, writes: ops, blankTrusted: true}, nil))
	require.Empty(t, after.backup.Copies)

	// The commit written again at the next block's start, its first copy
	// left valid where it was.
	const e = 4096
	j := after.backup.Journal
	last := j[len(j)-1]
	next := last.Off/e*e + e
	rec := make([]byte, last.Size)
	_, err := f.ReadAt(rec, last.Off)
	require.NoError(t, err)
	blk := make([]byte, e)
	_, err = f.ReadAt(blk, next)
	require.NoError(t, err)
	require.Equal(t, bytes.Repeat([]byte{0xFF}, e), blk, "the next journal block is erased")
	f.Poke(next, rec)
	copied := reviewView(t, f)
	require.Len(t, copied.backup.Journal, len(j), "the copy adds nothing to the journal")
	require.Len(t, copied.backup.Copies, 1)
	require.Equal(t, last.Seq, copied.backup.Copies[0].Seq)
	require.Equal(t, next, copied.backup.Copies[0].Off)

	erase := faults.Op{Role: faults.Backup, Kind: faults.Erase, Off: next, Len: e}
	program := faults.Op{Role: faults.Backup, Kind: faults.Program, Off: next, Len: last.Size}
	rewrite := append(slices.Clone(ops), erase, program)
	require.Empty(t, judgeCost(before, copied, costWrites{phase: "round", chip: 1, writes: rewrite, blankTrusted: true}, nil),
		"the erase and program of the copy serve the round's commit")

	waste := faults.Op{Role: faults.Backup, Kind: faults.Erase, Off: next + e, Len: e}
	why := judgeCost(before, copied, costWrites{phase: "round", chip: 1, writes: append(slices.Clone(rewrite), waste), blankTrusted: true}, nil)
	require.Contains(t, why, "erased journal blocks that receive none of its records")
	beyond := faults.Op{Role: faults.Backup, Kind: faults.Program, Off: next + last.Size, Len: 16}
	why = judgeCost(before, copied, costWrites{phase: "round", chip: 1, writes: append(slices.Clone(rewrite), beyond), blankTrusted: true}, nil)
	require.Contains(t, why, "programmed the journal outside every record it added")
}
