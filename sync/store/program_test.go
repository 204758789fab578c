package store

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
)

// TestFlippedBitsInFreeBlocksAreNotCommitted: bits read 0 in free data
// blocks past the allocation cursor — blocks never written since the
// format, which the store takes for erased — when the next round takes
// them. The round reads them before programming, finds them not erased and
// erases them: every chunk it commits verifies.
func TestFlippedBitsInFreeBlocksAreNotCommitted(t *testing.T) {
	f, s := newStore(t)
	runRound(t, s, 1, payloads{1: randomBytes(1, 9000)})
	require.Zero(t, s.wraps)
	for b := s.cursor; b < s.cursor+48 && b < s.layout.DataBlocks; b++ {
		f.Poke(s.BlockOffset(b)+100, []byte{0, 0, 0, 0})
	}
	ps := payloads{1: randomBytes(2, 120000)}
	runRound(t, s, 2, ps)
	require.Empty(t, s.VerifyChunks())
	checkPayloads(t, s, ps)
}

// chunkWrite is where a round's first chunk goes and which flash
// operation programs its last page, found by a traced run.
type chunkWrite struct {
	lo, hi   int64 // the chunk's chip range
	lastProg int64 // index of the operation that programs its last page
}

// firstChunkWrite runs generation 2's round on a copy of f's contents and
// returns where its first chunk is written.
func firstChunkWrite(t *testing.T, f hal.Flash, ps payloads) chunkWrite {
	t.Helper()
	var cw chunkWrite
	var progs []faults.Op
	in := faults.NewInjector(faults.Schedule{}, faults.Options{Disarmed: true, SplitPages: true, Trace: func(op faults.Op) {
		if op.Kind == faults.Program {
			progs = append(progs, op)
		}
	}})
	s := openTest(t, in.Wrap(f, faults.Backup), Options{})
	in.Arm()
	r, err := s.Begin(planOf(2, ps))
	require.NoError(t, err)
	w := r.Writes()[0]
	lo, hi := ChunkBounds(int64(len(ps[w.Type])), testPhase, 4096, w.Index)
	cw.lo, cw.hi = s.BlockOffset(w.Block), s.BlockOffset(w.Block)+hi-lo
	_, _, err = r.Write(0, ps[w.Type][lo:hi])
	require.NoError(t, err)
	for _, op := range progs {
		if op.Off >= cw.lo && op.Off < cw.hi {
			cw.lastProg = op.Index
		}
	}
	require.Positive(t, cw.lastProg)
	return cw
}

// TestReadBackOfEveryChunk: bits of a chunk flip while it is programmed
// (once, or at every program of the block), or a page of it is weakly
// programmed (reads right once). The round reads every chunk back twice
// before its commit. A fault of one program is repaired: the block is
// erased and the chunk programmed again, and the round commits a
// generation that verifies. A fault at every program fails the write with
// ErrVerify and nothing is committed; the block is taken out of use, the
// round is purged, and the next round commits a generation that verifies
// without that block.
func TestReadBackOfEveryChunk(t *testing.T) {
	f, s := newStore(t)
	ps1 := payloads{1: randomBytes(1, 30000)}
	runRound(t, s, 1, ps1)
	base := f.Snapshot()
	ps := payloads{1: randomBytes(2, 30000)}
	cw := firstChunkWrite(t, f, ps)

	for _, tt := range []struct {
		name     string
		schedule string
		repaired bool
	}{
		{name: "once", schedule: fmt.Sprintf("(seed 1) (on (at %d) (flip backup %#x %#x 64))", cw.lastProg, cw.lo, cw.hi), repaired: true},
		{name: "weak once", schedule: fmt.Sprintf("(seed 1) (on (at %d) weak)", cw.lastProg), repaired: true},
		{name: "every program", schedule: fmt.Sprintf("(seed 1) (on (and program (addr %#x %#x)) (flip backup %#x %#x 64))", cw.lo, cw.hi, cw.lo, cw.hi)},
		{name: "weak every program", schedule: fmt.Sprintf("(seed 1) (on (and program (addr %#x %#x)) weak)", cw.lo, cw.hi)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f.Restore(base)
			in := faults.NewInjector(mustSchedule(t, tt.schedule), faults.Options{Disarmed: true, SplitPages: true})
			s := openTest(t, in.Wrap(f, faults.Backup), Options{})
			in.Arm()
			r, err := s.Begin(planOf(2, ps))
			require.NoError(t, err)
			var werr error
			for i, w := range r.Writes() {
				lo, hi := ChunkBounds(int64(len(ps[w.Type])), testPhase, 4096, w.Index)
				if _, _, werr = r.Write(i, ps[w.Type][lo:hi]); werr != nil {
					break
				}
			}
			if tt.repaired {
				require.NotEmpty(t, in.Fired())
				require.NoError(t, werr)
				require.NoError(t, r.Commit(State{Generation: 2}))
				in.ExpireWeak()
				s2 := openTest(t, in.Wrap(f, faults.Backup), Options{ReadOnly: true})
				require.Equal(t, uint64(2), s2.State().Generation)
				require.Empty(t, s2.VerifyChunks(), "the chunk programmed again reads right")
				checkPayloads(t, s2, ps)
				return
			}
			require.NotEmpty(t, in.Fired())
			require.ErrorIs(t, werr, ErrVerify)
			require.Error(t, r.Commit(State{Generation: 2}), "a round whose chunk does not read back does not commit")
			require.Equal(t, uint64(1), s.State().Generation)
			require.NotNil(t, s.Interrupted())
			r.Abandon()
			_, err = s.Purge()
			require.NoError(t, err)
			checkPayloads(t, s, ps1)
			bad := uint32((cw.lo - s.BlockOffset(0)) / 4096)
			r, err = s.Begin(planOf(2, ps))
			require.NoError(t, err)
			for i, w := range r.Writes() {
				require.NotEqual(t, bad, w.Block, "the block that failed is out of use")
				lo, hi := ChunkBounds(int64(len(ps[w.Type])), testPhase, 4096, w.Index)
				_, _, err := r.Write(i, ps[w.Type][lo:hi])
				require.NoError(t, err)
			}
			require.NoError(t, r.Commit(State{Generation: 2}))
			require.Empty(t, s.VerifyChunks())
			checkPayloads(t, s, ps)
		})
	}
}
