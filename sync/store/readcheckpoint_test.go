package store

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReadCheckpointRules reads checkpoints built by checkpointRecords for
// a committed state, each broken in one way a CRC cannot see, and checks
// readCheckpoint's verdict with its exact message, and that the values on
// the bounds read.
func TestReadCheckpointRules(t *testing.T) {
	_, s := newStore(t)
	ps := payloads{1: randomBytes(1, 9000), 2: randomBytes(2, 500)}
	runRound(t, s, 1, ps)
	base := s.State()
	sb := s.Superblock()
	last := sb.DataBlocks - 1
	const epoch = 5
	build := func(st *State, cursor uint32, ep uint64) []record {
		var recs []record
		for _, b := range checkpointRecords(&sb, ep, 100, st, nil, cursor, 3) {
			buf := append(b, make([]byte, sb.EraseSize)...) // parseRecord reads to the block's end
			r, ok := parseRecord(buf, sb.SlotSize, false)
			require.Equal(t, parseOK, ok)
			recs = append(recs, r)
		}
		return recs
	}
	withChunk := func(i int, block uint32) *State {
		st := base.Clone()
		st.Types[0].Chunks[i].Block = block
		st.Types[0].Digest = payloadDigestOf(st.Types[0].Size, st.Types[0].Chunks)
		return &st
	}
	good := build(&base, 7, epoch)
	ck, err := s.readCheckpoint(good, epoch)
	require.NoError(t, err)
	require.Equal(t, base.Types, ck.state.Types)
	require.Equal(t, len(good), ck.records)
	require.Equal(t, [2]uint32{7, 3}, [2]uint32{ck.cursor, ck.wraps})
	var blocks []uint32
	for _, ty := range base.Types {
		for _, c := range ty.Chunks {
			blocks = append(blocks, c.Block)
		}
	}
	require.ElementsMatch(t, blocks, ck.live.members())

	tests := []struct {
		name  string
		recs  []record
		epoch uint64
		want  string
	}{
		{"last cursor", build(&base, last, epoch), epoch, ""},
		{"cursor past the area", build(&base, last+1, epoch), epoch, "corrupt store: checkpoint's cursor 590 is beyond the data area's 590 blocks"},
		{"other epoch", good, epoch + 1, "corrupt store: checkpoint epoch mismatch"},
		{"no records", nil, epoch, "corrupt store: no checkpoint"},
		{"not a begin", good[1:], epoch, "corrupt store: no checkpoint"},
		{"end missing", good[:len(good)-1], epoch, "corrupt store: checkpoint incomplete (" + itoa(len(good)-1) + " of " + itoa(len(good)) + " records)"},
		{"end of another epoch", append(append([]record(nil), good[:len(good)-1]...), build(&base, 7, epoch+1)[len(good)-1]), epoch, "corrupt store: checkpoint end record missing"},
		{"chunk in the last block", build(withChunk(0, last), 7, epoch), epoch, ""},
		{"chunk past the area", build(withChunk(0, last+1), 7, epoch), epoch, "corrupt store: checkpoint maps a chunk to block 590 of 590"},
		{"two chunks in a block", build(withChunk(1, base.Types[0].Chunks[0].Block), 7, epoch), epoch,
			"corrupt store: checkpoint maps two chunks to data block " + itoa(int(base.Types[0].Chunks[0].Block))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.readCheckpoint(tc.recs, tc.epoch)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tc.want)
			require.ErrorIs(t, err, ErrCorrupt)
		})
	}
	_, err = s.readCheckpoint(good[:len(good)-1], epoch)
	require.ErrorIs(t, err, errIncomplete)

	// A payload digest that is not that of the chunks.
	bad := base.Clone()
	bad.Types[1].Digest[0] ^= 1
	_, err = s.readCheckpoint(build(&bad, 7, epoch), epoch)
	require.EqualError(t, err, "corrupt store: checkpoint type "+itoa(int(bad.Types[1].Type))+": the payload digest is not that of its size and chunk digests")
}
