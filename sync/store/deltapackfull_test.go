package store

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDeltaRecordsFillABlockExactly: two delta records of E/2 bytes each
// (the largest a delta may be) go into one delta block, the second at
// offset E/2 ending exactly at the block's end; the round writes one
// delta block and no chunk whole.
func TestDeltaRecordsFillABlockExactly(t *testing.T) {
	f, s := newStore(t)
	e := int(s.eraseSize)
	ps := payloads{1: randomBytes(1, 10*4096)}
	deltaRound(t, s, 1, ps)
	// A run of k changed bytes in a chunk: find k for a record of E/2.
	lo, hi := ChunkBounds(int64(len(ps[1])), testPhase, 4096, 1)
	base := ps[1][lo:hi]
	change := func(b []byte, k int) []byte {
		d := append([]byte(nil), b...)
		for j := 100; j < 100+k; j++ {
			d[j] ^= 0xA5
		}
		return d
	}
	k := 1
	for ; k < e; k++ {
		if len(encodeDelta(s.writeVersion(), 1, 1, 2, base, change(base, k))) == e/2 {
			break
		}
	}
	require.Less(t, k, e, "no run gives a record of E/2 bytes")
	for _, i := range []int{1, 2} {
		lo, hi := ChunkBounds(int64(len(ps[1])), testPhase, 4096, i)
		copy(ps[1][lo:hi], change(ps[1][lo:hi], k))
	}
	r, err := s.Begin(deltaPlanOf(2, ps))
	require.NoError(t, err)
	full, dblocks := writeAndCommit(t, r, 2, ps)
	require.Zero(t, full)
	require.Equal(t, 1, dblocks, "two records of E/2 fill one block")
	ts, _ := s.StateRef().Type(1)
	d1, d2 := ts.Chunks[1].Deltas, ts.Chunks[2].Deltas
	require.Len(t, d1, 1)
	require.Len(t, d2, 1)
	require.Equal(t, DeltaRef{Block: d1[0].Block, Off: 0, Len: uint32(e / 2)}, d1[0])
	require.Equal(t, DeltaRef{Block: d1[0].Block, Off: uint32(e / 2), Len: uint32(e / 2)}, d2[0])
	requireReopens(t, f, s, ps)
}
