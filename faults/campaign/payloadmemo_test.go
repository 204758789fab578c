package campaign

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// TestPayloadMemo: the worker's payload memo answers what the reference
// decoder reads back (reference.Backup.Payload) on the chip as it is now:
// the same bytes while the blocks are unchanged, and the decoder's error
// once a block of a chunk or of a delta changed since the payload was read.
func TestPayloadMemo(t *testing.T) {
	for _, tc := range []struct {
		name     string
		scenario string
		stable   bool
		delta    bool // damage a delta block rather than a chunk's block
	}{
		{"stable, chunk block changed", "standard", true, false},
		{"stable, delta block changed", "denselimit", true, true},
		{"unstable cells: read every time", "standard", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := loadBench(context.Background(), tc.scenario, 1, engine.None)
			require.NoError(t, err)
			w, err := newWorker(b)
			require.NoError(t, err)
			w.chips[0].Restore(b.base[0])
			w.chips[1].Restore(b.base[1])
			w.stable = tc.stable
			v := w.decode(1)
			require.NoError(t, v.err)
			require.NotEmpty(t, v.backup.Committed.Types)
			// Each type read twice (the second from the memo) equals what
			// the decoder reads.
			var damaged uint8
			var at int64 = -1
			for _, ts := range v.backup.Committed.Types {
				want, err := v.backup.Payload(w.chips[1], ts.Type)
				require.NoError(t, err)
				for range 2 {
					got, err := w.payload(v, 1, ts.Type)
					require.NoError(t, err)
					require.Equal(t, want, got)
					got, crc, err := w.payloadCRC(v, 1, ts.Type)
					require.NoError(t, err)
					require.Equal(t, want, got)
					require.Equal(t, info.Checksum(want), crc)
				}
				for _, c := range ts.Chunks {
					switch {
					case at >= 0:
					case !tc.delta:
						at, damaged = v.blockOffset(c.Block), ts.Type
					case len(c.Deltas) > 0:
						at, damaged = v.blockOffset(c.Deltas[0].Block)+int64(c.Deltas[0].Off), ts.Type
					}
				}
			}
			require.GreaterOrEqual(t, at, int64(0), "no block to damage")
			// Clear bits of the block (a NOR program ANDs): the memo must
			// read again and fail as the decoder does.
			buf := make([]byte, 16)
			_, err = w.chips[1].ReadAt(buf, at)
			require.NoError(t, err)
			for i := range buf {
				buf[i] &^= 0x5a
			}
			_, err = w.chips[1].WriteAt(buf, at)
			require.NoError(t, err)
			_, want := v.backup.Payload(w.chips[1], damaged)
			require.True(t, errors.Is(want, reference.ErrChunk), "%v", want)
			_, got := w.payload(v, 1, damaged)
			require.Equal(t, want, got)
		})
	}
}
