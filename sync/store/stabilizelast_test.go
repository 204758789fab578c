package store

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sim"
)

// weakOnReread is a chip whose cells under the journal's last record turn
// marginal (sim.SetUnstable) just before the first read of exactly that
// record's range: the state of a program cut late, which read right while
// the journal was loaded.
type weakOnReread struct {
	*sim.Flash
	off, size int64
	armed     bool
}

func (w *weakOnReread) ReadAt(p []byte, off int64) (int, error) {
	if w.armed && off == w.off && int64(len(p)) == w.size {
		w.armed = false
		w.SetUnstable(w.off, w.size)
	}
	return w.Flash.ReadAt(p, off)
}

// TestOpenStabilizesTheLastRecord: on NOR, a writable Open reads the last
// journal record again and, when it reads differently from its encoding,
// programs it again, which settles its cells: afterwards it reads as
// written, every time. Read-only, nothing is written and it stays marginal.
func TestOpenStabilizesTheLastRecord(t *testing.T) {
	f, s := newStore(t)
	ps := payloads{1: randomBytes(1, 10000)}
	runRound(t, s, 1, ps)
	last := openTest(t, f, Options{ReadOnly: true}).lastRecord
	require.Equal(t, kindCommit, last.kind)
	want := encodeRecord(last.kind, last.seq, last.body, s.slotSize)
	require.Len(t, want, int(last.size))

	rereads := func() (differ int) {
		for range 8 {
			b := make([]byte, last.size)
			_, err := f.ReadAt(b, last.off)
			require.NoError(t, err)
			if string(b) != string(want) {
				differ++
			}
		}
		return differ
	}
	require.Zero(t, rereads())
	snap := f.Snapshot()

	w := &weakOnReread{Flash: f, off: last.off, size: last.size, armed: true}
	s = openTest(t, w, Options{})
	require.False(t, w.armed, "Open read the last record again")
	require.Zero(t, rereads(), "the last record reads as written after Open")
	require.Equal(t, last.seq, s.lastRecord.seq)
	checkPayloads(t, openTest(t, f, Options{ReadOnly: true}), ps)

	f.Restore(snap)
	w = &weakOnReread{Flash: f, off: last.off, size: last.size, armed: true}
	openTest(t, w, Options{ReadOnly: true})
	require.True(t, w.armed, "a read-only Open does not read it again")
	f.SetUnstable(last.off, last.size)
	require.Equal(t, 8, rereads(), "marginal cells read differently")
}
