package store

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCheckpointBeginTypeCountBound: a checkpoint-begin may list up to
// maxTypes (32) types' metadata; only a count above that is refused for
// the count alone. Up to it the entries are read and judged: here types
// 1..6 over and over, so the first one listed again is refused as a
// duplicate, at 32 as at 31.
func TestCheckpointBeginTypeCountBound(t *testing.T) {
	_, s := newStore(t)
	const epoch = 7
	for _, tc := range []struct {
		types int
		want  string
	}{
		{types: 6, want: "(1 of 2 records)"}, // well formed: only the records after it are missing
		{types: 7, want: "lists type 1 twice"},
		{types: maxTypes - 1, want: "lists type 1 twice"},
		{types: maxTypes, want: "lists type 1 twice"},
		{types: maxTypes + 1, want: fmt.Sprintf("lists %d types", maxTypes+1)},
		{types: 255, want: "lists 255 types"},
	} {
		t.Run(fmt.Sprint(tc.types), func(t *testing.T) {
			var b enc
			b.u64(epoch)
			b.stateHead(&State{})
			b.u8(0) // no staged configuration
			b.u32(0)
			b.u32(0)
			b.u8(uint8(tc.types))
			for i := range tc.types {
				b.typeMeta(&TypeState{Type: uint8(1 + i%6)}, 0)
			}
			b.u32(0)
			_, err := s.readCheckpoint([]record{{kind: kindCkptBegin, seq: 1, body: b.buf}}, epoch)
			require.ErrorIs(t, err, ErrCorrupt)
			require.ErrorContains(t, err, tc.want)
		})
	}
}
