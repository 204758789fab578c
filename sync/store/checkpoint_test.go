package store

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIncompleteCheckpointErrorCounts: a checkpoint cut short is reported
// as errIncomplete with how many of its records the journal holds and how
// many it spans (begin, chunk records, end).
func TestIncompleteCheckpointErrorCounts(t *testing.T) {
	_, s := newStore(t)
	runRound(t, s, 1, payloads{1: randomBytes(1, 60000), 2: randomBytes(2, 5000)})
	require.NoError(t, s.Compact())

	bufs := &blockBufs{blockSize: s.eraseSize}
	defer bufs.release()
	sc, err := s.scanArea(s.area, bufs)
	require.NoError(t, err)
	ck, err := s.readCheckpoint(sc.records, s.epoch)
	require.NoError(t, err)
	total := ck.records
	require.Greater(t, total, 2, "the checkpoint holds chunk records")

	for _, tc := range []struct {
		name string
		have int
	}{
		{"begin only", 1},
		{"one chunk record short", total - 2},
		{"end missing", total - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.readCheckpoint(sc.records[:tc.have], s.epoch)
			require.ErrorIs(t, err, ErrCorrupt)
			require.ErrorIs(t, err, errIncomplete)
			require.ErrorContains(t, err, fmt.Sprintf("(%d of %d records)", tc.have, total))
		})
	}
}

// TestCheckpointChunksRecordPastTheTypesChunks: a checkpoint-chunks
// record (right CRCs) whose entries run past the chunk count its
// checkpoint-begin gave the type is refused as corrupt; one that ends at
// the count exactly is taken.
func TestCheckpointChunksRecordPastTheTypesChunks(t *testing.T) {
	_, s := newStore(t)
	const epoch, nchunks = 3, 2
	for _, tc := range []struct {
		first, n int
		ok       bool
	}{{0, 1, true}, {0, 2, true}, {0, 3, false}, {1, 1, false}} {
		var b enc
		b.u64(epoch)
		b.u8(1)
		b.u32(uint32(tc.first))
		b.u16(uint16(tc.n))
		for i := range tc.n {
			b.u32(uint32(10 + i))
			b.u64(uint64(i))
			b.raw(make([]byte, DigestSize))
		}
		st := State{Types: []TypeState{{Type: 1}}}
		used := newBlockSet(int(s.layout.DataBlocks))
		cur, err := s.checkpointChunks(record{body: b.buf, seq: 9}, epoch, &st, []int{nchunks}, 0, used)
		require.Zero(t, cur)
		if tc.ok {
			require.NoError(t, err, "%+v", tc)
			require.Len(t, st.Types[0].Chunks, tc.n)
			continue
		}
		require.ErrorIs(t, err, ErrCorrupt, "%+v", tc)
		require.EqualError(t, err, "corrupt store: checkpoint chunk record 9 out of order", "%+v", tc)
		require.Empty(t, st.Types[0].Chunks, "%+v", tc)
	}
}
