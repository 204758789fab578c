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
