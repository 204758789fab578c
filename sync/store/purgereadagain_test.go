package store

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
)

// marginalErase is a flash whose first erase of the block at off leaves
// one cell between states: the block then holds one 0 bit that the first
// read after the erase misses (it reads 0xFF there) and later reads see,
// as an erase that reported success without clearing a cell a torn
// program left weak. Later erases of the block work.
type marginalErase struct {
	hal.Flash
	off      int64
	erases   int
	marginal bool // the next read of the block misses the 0 bit
}

func (m *marginalErase) Erase(off, n int64) error {
	if err := m.Flash.Erase(off, n); err != nil {
		return err
	}
	if off <= m.off && m.off < off+n {
		m.erases++
		if m.erases == 1 {
			m.marginal = true
			_, err := m.Flash.WriteAt([]byte{0xfe}, m.off)
			return err
		}
	}
	return nil
}

func (m *marginalErase) ReadAt(p []byte, off int64) (int, error) {
	n, err := m.Flash.ReadAt(p, off)
	if m.marginal && off <= m.off && m.off < off+int64(len(p)) {
		m.marginal = false
		p[m.off-off] = 0xff
	}
	return n, err
}

// TestPurgeReadsAnErasedBlockTwice: a purged block whose one weak cell
// read erased on the erase's read-back and 0 on the next read is read
// back a second time, found unerased and erased again: after the purge
// the block reads erased.
func TestPurgeReadsAnErasedBlockTwice(t *testing.T) {
	f, _, ps1, off := abandonedRound(t)
	m := &marginalErase{Flash: f, off: off}
	s2 := openTest(t, m, Options{})
	require.NotNil(t, s2.Interrupted())
	_, err := s2.Purge()
	require.NoError(t, err)
	require.Equal(t, 2, m.erases, "the block that did not read erased the second time is erased again")
	buf := make([]byte, 4096)
	_, err = f.ReadAt(buf, off)
	require.NoError(t, err)
	require.True(t, hal.IsErased(buf), "the purged block reads erased")

	s3 := openTest(t, f, Options{ReadOnly: true})
	require.Nil(t, s3.Interrupted())
	require.Equal(t, uint64(1), s3.State().Generation)
	checkPayloads(t, s3, ps1)
}

// TestPurgeReadsAgainAfterAFailedRead: the purge's second read-back of a
// block that fails with a media error is read again, not the purge failed
// (which would make the next recovery erase every block once more).
func TestPurgeReadsAgainAfterAFailedRead(t *testing.T) {
	f, _, _, off := abandonedRound(t)
	blockReads := fmt.Sprintf("(and read (addr %#x %#x))", off, off+4096)
	// The purge's reads of the block, without faults: the erase's
	// read-back, then the second read.
	var reads []int64
	trace := faults.NewInjector(faults.Schedule{}, faults.Options{Trace: func(op faults.Op) {
		if op.Kind == faults.Read && op.Off == off && op.Len == 4096 {
			reads = append(reads, op.Index)
		}
	}})
	snap := f.Snapshot()
	s1 := openTest(t, trace.Wrap(f, faults.Backup), Options{})
	_, err := s1.Purge()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(reads), 2, "the purge reads the block back twice")
	f.Restore(snap)

	// The second read fails with a media error.
	sc := mustSchedule(t, fmt.Sprintf("(on (and %s (at %d)) (fail media))", blockReads, reads[1]))
	var after []int64
	in := faults.NewInjector(sc, faults.Options{Trace: func(op faults.Op) {
		if op.Kind == faults.Read && op.Off == off && op.Len == 4096 {
			after = append(after, op.Index)
		}
	}})
	s2 := openTest(t, in.Wrap(f, faults.Backup), Options{})
	require.NotNil(t, s2.Interrupted())
	_, err = s2.Purge()
	require.NoError(t, err)
	require.Len(t, in.Fired(), 1, "the schedule %v fired", sc)
	require.Len(t, after, 3, "the erase's read-back, the failed second read, and the second read again")
	require.Nil(t, s2.Interrupted())
}

// abandonedRound commits generation 1 on a fresh store, then writes every
// chunk of generation 2 and abandons that round, so that it is durable and
// interrupted. It returns the flash, the store, generation 1's payloads
// and the offset of the first data block the abandoned round wrote.
func abandonedRound(t *testing.T) (*sim.Flash, *Store, payloads, int64) {
	t.Helper()
	f, s := newStore(t)
	ps1 := payloads{1: randomBytes(1, 30000), 2: randomBytes(2, 5000)}
	runRound(t, s, 1, ps1)

	ps2 := payloads{1: randomBytes(3, 30000), 2: randomBytes(4, 5000)}
	r, err := s.Begin(planOf(2, ps2))
	require.NoError(t, err)
	ws := r.Writes()
	require.NotEmpty(t, ws)
	for i, w := range ws {
		lo, hi := ChunkBounds(int64(len(ps2[w.Type])), testPhase, 4096, w.Index)
		_, _, err := r.Write(i, ps2[w.Type][lo:hi])
		require.NoError(t, err)
	}
	r.Abandon()
	require.NotNil(t, s.Interrupted())
	return f, s, ps1, s.BlockOffset(ws[0].Block)
}
