package store

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCheckpointBeginOfOnlyAnEpoch: the area not in charge starts with a
// valid checkpoint-begin record (good CRCs) whose body is cut short. A
// body of fewer than 8 bytes has no epoch: the area is no candidate and
// Open says so. A body of 8 bytes or more carries its epoch (here 100,
// above the area in charge's): the area is tried first, its checkpoint is
// found not usable and Open falls back to the other area; the epoch
// counts as seen, so the next checkpoint's epoch is above it.
func TestCheckpointBeginOfOnlyAnEpoch(t *testing.T) {
	const epoch, seq = 100, 1000
	for _, tc := range []struct {
		bodyLen   int
		detail    string // in the area's CheckpointDamaged finding
		nextEpoch uint64 // of the checkpoint Compact writes
	}{
		{bodyLen: 0, detail: "has a 0-byte body", nextEpoch: 2},
		{bodyLen: 7, detail: "has a 7-byte body", nextEpoch: 2},
		{bodyLen: 8, detail: "the checkpoint of epoch 100 is not usable", nextEpoch: epoch + 1},
		{bodyLen: 9, detail: "the checkpoint of epoch 100 is not usable", nextEpoch: epoch + 1},
	} {
		t.Run(fmt.Sprintf("%d-byte body", tc.bodyLen), func(t *testing.T) {
			f, s := newStore(t)
			require.Equal(t, 0, s.area)
			require.Equal(t, uint64(1), s.epoch)
			body := make([]byte, tc.bodyLen)
			var e enc
			e.u64(epoch)
			copy(body, e.buf)
			_, err := f.WriteAt(encodeRecord(kindCkptBegin, seq, body, s.slotSize), s.areaOff(1))
			require.NoError(t, err)

			s = openTest(t, f, Options{})
			require.Equal(t, 0, s.area, "the area in charge stays")
			var got []string
			for _, fd := range s.Findings() {
				if fd.Kind == CheckpointDamaged && fd.Area == 1 {
					got = append(got, fd.Detail)
				}
			}

			require.NoError(t, s.Compact())
			rep, err := Inspect(f, testStoreOff, testStoreSize, false)
			require.NoError(t, err)
			require.Equal(t, 1, rep.Journal.Area)
			require.Equal(t, tc.nextEpoch, rep.Journal.Epoch, "the epoch of the checkpoint written after Open")
			require.Len(t, got, 1)
			require.Contains(t, got[0], tc.detail)
		})
	}
}
