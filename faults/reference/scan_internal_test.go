package reference

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// A synthetic journal area for the scan tests: 4 erase blocks of 1 KiB,
// 256-byte slots (4 per block).
const (
	testErase  = 1024
	testSlot   = 256
	testBlocks = 4
)

type slotAt struct {
	block, slot int
	data        []byte
}

// rec is a role record of sequence number seq: one slot.
func rec(block, slot int, seq uint64) slotAt {
	return slotAt{block, slot, frameBytes(KindRole, seq, (&enc{}).role(Role{}).buf)}
}

// long is a record of sequence number seq that fills n slots.
func long(block, slot int, seq uint64, n int) slotAt {
	return slotAt{block, slot, frameBytes(KindConfigStaged, seq, make([]byte, n*testSlot-headerSize-trailerSize))}
}

func garbage(block, slot int) slotAt {
	return slotAt{block, slot, bytes.Repeat([]byte{0x5A}, 40)}
}

func erasedHeader(block, slot int) slotAt { // an erased header over a record's body
	return slotAt{block, slot, append(bytes.Repeat([]byte{0xFF}, headerSize), 1, 2, 3)}
}

// TestScanRules checks the reading rules of docs/FORMAT.md, 4.6 step 3 on
// synthetic areas.
func TestScanRules(t *testing.T) {
	tests := []struct {
		name   string
		slots  []slotAt
		seqs   []uint64 // the journal's sequence numbers
		kinds  []FindingKind
		torn   bool
		atSeq  uint64 // the finding's sequence number (first finding)
		atSlot int    // and its offset in slots from the area's start
	}{
		{name: "one block", slots: []slotAt{rec(0, 0, 1), rec(0, 1, 2), rec(0, 2, 3)}, seqs: []uint64{1, 2, 3}},
		{name: "the next block continues", slots: []slotAt{rec(0, 0, 1), rec(0, 1, 2), rec(1, 0, 3), rec(1, 1, 4)}, seqs: []uint64{1, 2, 3, 4}},
		{name: "a full block", slots: []slotAt{long(0, 0, 1, 4), rec(1, 0, 2)}, seqs: []uint64{1, 2}},
		{name: "a torn record skipped", slots: []slotAt{rec(0, 0, 1), rec(0, 1, 2), garbage(0, 2), rec(1, 0, 3)},
			seqs: []uint64{1, 2, 3}, kinds: []FindingKind{TornSkipped}, atSeq: 3, atSlot: 2},
		{name: "a copy left valid at the next block's start", slots: []slotAt{rec(0, 0, 1), rec(0, 1, 2), rec(1, 0, 2), rec(1, 1, 3)},
			seqs: []uint64{1, 2, 3}},
		{name: "copies of a batch whose rest is torn", slots: []slotAt{rec(0, 0, 1), rec(0, 1, 2), garbage(0, 2), rec(1, 0, 2), rec(1, 1, 3), rec(1, 2, 4)},
			seqs: []uint64{1, 2, 3, 4}, kinds: []FindingKind{TornSkipped}, atSeq: 3, atSlot: 2},
		{name: "copies in two blocks", slots: []slotAt{rec(0, 0, 1), rec(0, 1, 2), rec(0, 2, 3), rec(1, 0, 2), rec(1, 1, 3), rec(2, 0, 2), rec(2, 1, 3), rec(2, 2, 4)},
			seqs: []uint64{1, 2, 3, 4}},
		{name: "only copies: the end", slots: []slotAt{rec(0, 0, 1), rec(0, 1, 2), rec(1, 0, 2)},
			seqs: []uint64{1, 2}},
		{name: "a lower record that is no copy", slots: []slotAt{rec(0, 0, 1), rec(0, 1, 2), long(1, 0, 2, 1), rec(1, 1, 3)},
			seqs: []uint64{1, 2}, kinds: []FindingKind{RecordsLost}, atSeq: 3, atSlot: 5},
		{name: "a copy repeated", slots: []slotAt{rec(0, 0, 1), rec(0, 1, 2), rec(0, 2, 3), rec(1, 0, 2), rec(1, 1, 2), rec(1, 2, 4)},
			seqs: []uint64{1, 2, 3}, kinds: []FindingKind{SequenceBackwards}, atSeq: 2, atSlot: 5},
		{name: "a copy, then a gap", slots: []slotAt{rec(0, 0, 1), rec(0, 1, 2), rec(1, 0, 2), rec(1, 1, 4)},
			seqs: []uint64{1, 2}, kinds: []FindingKind{SequenceGap}, atSeq: 4, atSlot: 5},
		{name: "stale blocks after the end", slots: []slotAt{rec(0, 0, 5), rec(0, 1, 6), rec(1, 0, 2), rec(1, 1, 3), rec(3, 0, 4)},
			seqs: []uint64{5, 6}},
		{name: "torn tail", slots: []slotAt{rec(0, 0, 1), rec(0, 1, 2), garbage(0, 2)},
			seqs: []uint64{1, 2}, kinds: []FindingKind{TornTail}, torn: true, atSeq: 3, atSlot: 2},
		{name: "torn first record of the next block", slots: []slotAt{rec(0, 0, 1), rec(0, 1, 2), garbage(1, 0)},
			seqs: []uint64{1, 2}, kinds: []FindingKind{TornTail}, torn: true, atSeq: 3, atSlot: 4},
		{name: "torn tail in the last block", slots: []slotAt{long(0, 0, 1, 4), long(1, 0, 2, 4), long(2, 0, 3, 4), rec(3, 0, 4), garbage(3, 1)},
			seqs: []uint64{1, 2, 3, 4}, kinds: []FindingKind{TornTail}, torn: true, atSeq: 5, atSlot: 13},
		{name: "a record longer than the rest of its block", slots: []slotAt{rec(0, 0, 1), {0, 1, frameBytes(KindRole, 2, make([]byte, 800))[:testErase-testSlot]}},
			seqs: []uint64{1}, kinds: []FindingKind{TornTail}, torn: true, atSeq: 2, atSlot: 1},
		{name: "damaged record before a valid one", slots: []slotAt{rec(0, 0, 1), garbage(0, 1), rec(0, 2, 3)},
			seqs: []uint64{1}, kinds: []FindingKind{RecordDamaged}, atSeq: 2, atSlot: 1},
		{name: "erased header before a valid record", slots: []slotAt{rec(0, 0, 1), erasedHeader(0, 1), rec(0, 2, 3)},
			seqs: []uint64{1}, kinds: []FindingKind{RecordDamaged}, atSeq: 2, atSlot: 1},
		{name: "damaged record before an older one", slots: []slotAt{rec(0, 0, 1), rec(0, 1, 2), garbage(0, 2), rec(0, 3, 1)},
			seqs: []uint64{1, 2}, kinds: []FindingKind{RecordDamaged}, atSeq: 3, atSlot: 2},
		{name: "gap in a block", slots: []slotAt{rec(0, 0, 1), rec(0, 1, 3)},
			seqs: []uint64{1}, kinds: []FindingKind{SequenceGap}, atSeq: 3, atSlot: 1},
		{name: "backwards in a block", slots: []slotAt{rec(0, 0, 4), rec(0, 1, 5), rec(0, 2, 4)},
			seqs: []uint64{4, 5}, kinds: []FindingKind{SequenceBackwards}, atSeq: 4, atSlot: 2},
		{name: "gap at the next block", slots: []slotAt{rec(0, 0, 1), rec(1, 0, 3)},
			seqs: []uint64{1}, kinds: []FindingKind{SequenceGap}, atSeq: 3, atSlot: 4},
		{name: "damaged first record of a block", slots: []slotAt{rec(0, 0, 1), garbage(1, 0), rec(1, 1, 3)},
			seqs: []uint64{1}, kinds: []FindingKind{RecordsLost}, atSeq: 3, atSlot: 5},
		{name: "records past an erased block", slots: []slotAt{rec(0, 0, 1), rec(2, 0, 2)},
			seqs: []uint64{1}, kinds: []FindingKind{RecordsLost}, atSeq: 2, atSlot: 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			area := bytes.Repeat([]byte{0xFF}, testBlocks*testErase)
			for _, s := range tt.slots {
				copy(area[s.block*testErase+s.slot*testSlot:], s.data)
			}
			const areaOff = 0x10000
			res := scanArea(area, areaOff, 0, testErase, testSlot)
			var seqs []uint64
			for _, fr := range res.frames {
				seqs = append(seqs, fr.seq)
			}
			require.Equal(t, tt.seqs, seqs)
			var kinds []FindingKind
			for _, f := range res.findings {
				kinds = append(kinds, f.Kind)
			}
			require.Equal(t, tt.kinds, kinds, "%v", res.findings)
			require.Equal(t, tt.torn, res.torn)
			if len(res.findings) > 0 {
				require.Equal(t, tt.atSeq, res.findings[0].Seq, "%v", res.findings[0])
				require.Equal(t, int64(areaOff+tt.atSlot*testSlot), res.findings[0].Off, "%v", res.findings[0])
			}
		})
	}
}

// TestParseSlot checks the framing of docs/FORMAT.md, 4.2.
func TestParseSlot(t *testing.T) {
	good := frameBytes(KindRole, 7, (&enc{}).role(Role{Epoch: 1}).buf)
	block := func(p []byte) []byte {
		b := bytes.Repeat([]byte{0xFF}, testErase)
		copy(b, p)
		return b
	}
	edit := func(i int, x byte) []byte {
		p := append([]byte{}, good...)
		p[i] ^= x
		return p
	}
	tests := []struct {
		name string
		data []byte
		want slotState
		why  string
	}{
		{"valid", good, slotValid, ""},
		{"erased", nil, slotErased, ""},
		{"bad magic", edit(0, 1), slotInvalid, "bad magic"},
		{"bad header crc", edit(12, 1), slotInvalid, "bad header crc"},
		{"bad record crc", edit(30, 1), slotInvalid, "bad record crc"},
		{"body beyond the block", frameBytes(KindRole, 1, make([]byte, testErase)), slotInvalid, "body length 1024 does not fit in the erase block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, fr, why := parseSlot(block(tt.data), 0)
			require.Equal(t, tt.want, st)
			require.Equal(t, tt.why, why)
			if st == slotValid {
				require.Equal(t, KindRole, fr.kind)
				require.Equal(t, uint64(7), fr.seq)
				require.Equal(t, len(good), fr.length)
			}
		})
	}
	st, fr, _ := parseSlot(block(edit(5, 1)), 0)
	require.Equal(t, slotInvalid, st, "a changed reserved byte breaks the header crc")
	require.False(t, fr.reserved)
}

// TestScanListsCopies: the copies the chain skips at a block's start (4.6
// step 3) are listed where they lie, so that a judge of what a writer
// wrote can count them; the chain's own records are not.
func TestScanListsCopies(t *testing.T) {
	tests := []struct {
		name  string
		slots []slotAt
		at    []int // the copies' offsets in slots from the area's start
	}{
		{name: "no copy", slots: []slotAt{rec(0, 0, 1), rec(0, 1, 2), rec(1, 0, 3)}},
		{name: "one copy", slots: []slotAt{rec(0, 0, 1), rec(0, 1, 2), rec(1, 0, 2), rec(1, 1, 3)}, at: []int{4}},
		{name: "copies in two blocks", slots: []slotAt{rec(0, 0, 1), rec(0, 1, 2), rec(0, 2, 3), rec(1, 0, 2), rec(1, 1, 3), rec(2, 0, 2), rec(2, 1, 3), rec(2, 2, 4)},
			at: []int{4, 5, 8, 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			area := bytes.Repeat([]byte{0xFF}, testBlocks*testErase)
			for _, s := range tt.slots {
				copy(area[s.block*testErase+s.slot*testSlot:], s.data)
			}
			const areaOff = 0x10000
			var at []int
			for _, c := range scanArea(area, areaOff, 0, testErase, testSlot).copies {
				require.Equal(t, int64(testSlot), c.size)
				at = append(at, int(c.off-areaOff)/testSlot)
			}
			require.Equal(t, tt.at, at)
		})
	}
}
