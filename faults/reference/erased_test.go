package reference_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults/reference"
)

// TestKnownErasedReadsErased: on stores the engine wrote (a first round,
// then a round cut mid-write and purged at the restart), every data block
// the decoder counts known erased (docs/FORMAT.md 4.7) reads erased, no
// block the committed state holds is counted, and the purged round's
// blocks are in the erased set.
func TestKnownErasedReadsErased(t *testing.T) {
	p := newPair(t, 3)
	p.round(0)
	require.NoError(t, p.gen.Step(p.region, time.Hour))
	_, last := p.roundOpsAndLastWrite()
	require.Greater(t, last, int64(20))
	p.faultedRound(0, fmt.Sprintf("(on (at %d) cut)", last-10))
	p.open()

	b, err := reference.Decode(p.chips[1], p.layout.StoreOff, p.layout.StoreSize)
	require.NoError(t, err)
	require.False(t, b.Damaged())
	require.NotNil(t, b.LastPurged, "the cut round was purged")
	committed := map[uint32]bool{}
	for _, d := range b.CommittedBlocks() {
		committed[d] = true
	}
	e := b.Superblock.EraseSize
	blank := bytes.Repeat([]byte{0xFF}, int(e))
	buf := make([]byte, e)
	var nErased, nBlank int
	for d := range b.Superblock.DataBlocks {
		erased, isBlank := b.KnownErased(d)
		if !erased && !isBlank {
			continue
		}
		require.False(t, committed[d], "block %d holds committed data but is counted known erased", d)
		_, err := p.chips[1].ReadAt(buf, b.BlockOffset(d))
		require.NoError(t, err)
		require.Equal(t, blank, buf, "block %d is counted known erased (erased %v, blank %v) but does not read erased", d, erased, isBlank)
		if erased {
			nErased++
		} else {
			nBlank++
		}
	}
	for _, d := range b.LastPurged.Blocks() {
		erased, _ := b.KnownErased(d)
		require.True(t, erased, "block %d of the purged round", d)
	}
	require.Positive(t, nErased)
	require.Positive(t, nBlank)
	t.Logf("%d erased, %d blank of %d data blocks", nErased, nBlank, b.Superblock.DataBlocks)
}
