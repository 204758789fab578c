package info

import (
	"bytes"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWriteRepairKeepsTheHeader: writing the payload a record's header
// already describes over a damaged payload (a restore retrying after a
// weak program) repairs only the damaged block: the sequence number is
// kept and the header's block is not erased. A changed payload still
// takes the next sequence number.
func TestWriteRepairKeepsTheHeader(t *testing.T) {
	const size = 1 << 20
	f := newNOR(t, size)
	r := formatted(t, f, 0, size)
	eb := f.Geometry().EraseSize
	off, _ := r.Extent(EventLog)
	first := off / eb
	p := make([]byte, 10*eb)
	for i := range p {
		p[i] = byte(i * 7)
	}
	require.NoError(t, r.Write(EventLog, p))
	rec, err := r.Read(EventLog)
	require.NoError(t, err)
	seq := rec.Seq

	tests := []struct {
		name    string
		damage  int64 // payload offset of the damaged byte
		blocks  []int64
		changed bool // the payload written differs from the stored one
	}{
		{"a byte of block 5 damaged: only block 5 is written", 5*eb + 100, []int64{5}, false},
		{"a byte of the header's block damaged", 100, []int64{0}, false},
		{"a changed payload takes the next sequence number", -1, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := bytes.Clone(p)
			if tc.damage >= 0 {
				at := off + RecordHeaderSize + tc.damage
				f.Poke(at, []byte{^p[tc.damage]})
				_, err := r.Read(EventLog)
				require.ErrorIs(t, err, ErrCorrupt)
			}
			if tc.changed {
				want[3*eb] ^= 0x55
			}
			wear := make([]int64, 10)
			for b := range wear {
				wear[b] = f.Wear(first + int64(b))
			}
			require.NoError(t, r.Write(EventLog, want))
			rec, err := r.Read(EventLog)
			require.NoError(t, err)
			require.Equal(t, want, rec.Payload)
			if !tc.changed {
				require.Equal(t, seq, rec.Seq, "a repair keeps the sequence number")
				for b := range wear {
					erased := f.Wear(first+int64(b)) != wear[b]
					require.Equal(t, slices.Contains(tc.blocks, int64(b)), erased, "block %d of the extent erased", b)
				}
				return
			}
			require.Equal(t, seq+1, rec.Seq)
		})
	}
}
