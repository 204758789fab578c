package store

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
)

// TestFormatMultiBlockCheckpoint: on a chip whose page (the journal's
// record slot) is its whole 1 KiB erase block, the initial checkpoint's
// head and end records take one block each; Format writes the second at
// the journal's second block, and Open reads the store back with the
// configuration given, no damage, and a first round commits.
func TestFormatMultiBlockCheckpoint(t *testing.T) {
	f, fo := formatOneKiB(t)
	cfg := fo.Config
	const off, size = oneKiBOff, oneKiBSize

	sb, err := PlanLayout(f.Geometry(), size, fo)
	require.NoError(t, err)
	img := checkpointImage(&sb, 1, 1, &State{Config: cfg}, nil, 0, 0)
	require.Greater(t, int64(len(img)), sb.EraseSize, "the initial checkpoint spans more than one erase block")
	// The bytes on flash: block i of journal area 0 holds the image's
	// i-th erase block (erased past its end), and the block after the
	// image is still erased.
	a0 := off + int64(sb.Journal[0])*sb.EraseSize
	nb := (int64(len(img)) + sb.EraseSize - 1) / sb.EraseSize
	for i := int64(0); i <= nb; i++ {
		want := bytes.Repeat([]byte{0xFF}, int(sb.EraseSize))
		if i < nb {
			copy(want, img[i*sb.EraseSize:min((i+1)*sb.EraseSize, int64(len(img)))])
		}
		got := make([]byte, sb.EraseSize)
		_, err := f.ReadAt(got, a0+i*sb.EraseSize)
		require.NoError(t, err)
		require.True(t, bytes.Equal(want, got), "journal area 0, block %d of the %d-block initial checkpoint", i, nb)
	}

	s, err := Open(f, off, size, Options{})
	require.NoError(t, err)
	require.Empty(t, s.Findings())
	require.Empty(t, s.Damage())
	require.True(t, cfg.Equal(s.State().Config), "the format's configuration is read back")
	ps := payloads{1: randomBytes(1, 900), 6: randomBytes(2, 700)}
	runRound(t, s, 1, ps)
	checkPayloads(t, s, ps)
	back, err := Open(f, off, size, Options{ReadOnly: true})
	require.NoError(t, err)
	checkPayloads(t, back, ps)
	require.Equal(t, uint64(1), back.State().Generation)
}

// oneKiBOff and oneKiBSize are the store range of formatOneKiB.
const oneKiBOff, oneKiBSize = 1 << 20, 3 << 20

// formatOneKiB formats a store on a NOR chip whose page (the journal's
// record slot) is its whole 1 KiB erase block, with six types and 100
// chunks, and returns the chip and the options used.
func formatOneKiB(t *testing.T) (*sim.Flash, FormatOptions) {
	t.Helper()
	p := simtest.Part(t, "mx66l1g45g")
	p.Name, p.EraseSize, p.PageSize, p.BlockEraseSize = "onekib", 1024, 1024, 0
	f, err := sim.New(sim.Options{Part: p, Size: 4 << 20, Name: "backup"})
	require.NoError(t, err)
	cfg := Config{Types: []uint8{1, 2, 3, 4, 5, 6}, Interval: time.Minute, Threshold: time.Second}
	fo := FormatOptions{ChipID: 1, PairID: 42, Time: time.Unix(1000, 0), MaxChunks: 100, Config: cfg}
	require.NoError(t, Format(f, oneKiBOff, oneKiBSize, fo))
	return f, fo
}

// TestSequenceGapOffset: a journal block whose last record is lost
// (erased) ends the chain there; the next block starts with a valid
// record of a higher sequence number, and Open reports a SequenceGap at
// that next block's offset with the record's sequence number.
func TestSequenceGapOffset(t *testing.T) {
	f, s := newStore(t)
	e := f.Geometry().EraseSize
	log := roundsUntilCrossing(t, f, s, func([]RecordInfo, int) bool { return true })
	k := crossing(log, e)
	last, next := log[k-1], log[k]
	require.Equal(t, last.Seq+1, next.Seq)

	// Rewrite last's block without last.
	blankInBlock(t, f, e, last.Off, last.Size)
	gaps := findingsOf(t, f, SequenceGap)
	require.Len(t, gaps, 1)
	require.Equal(t, next.Off, gaps[0].Off, "the gap is reported at the next block's first record")
	require.Equal(t, next.Seq, gaps[0].Seq)
	require.GreaterOrEqual(t, gaps[0].Area, 0)
}

// roundsUntilCrossing runs small rounds on s until the journal, as
// Inspect reads it from f, has a record k starting a new erase block
// (crossing) with another record after it and more(log, k); it returns
// that journal.
func roundsUntilCrossing(t *testing.T, f hal.Flash, s *Store, more func(log []RecordInfo, k int) bool) []RecordInfo {
	t.Helper()
	e := f.Geometry().EraseSize
	for gen := uint64(1); ; gen++ {
		require.Less(t, gen, uint64(200), "the journal never crossed a block")
		runRound(t, s, gen, payloads{1: randomBytes(gen, 3000), 2: randomBytes(gen+1000, 500)})
		rep, err := Inspect(f, testStoreOff, testStoreSize, false)
		require.NoError(t, err)
		log := rep.Journal.Log
		if k := crossing(log, e); k > 0 && k < len(log)-1 && more(log, k) {
			return log
		}
	}
}

// crossing returns the index of the first record of log past the
// checkpoint that starts a new erase block (of size e) after a record in
// an earlier one, or -1.
func crossing(log []RecordInfo, e int64) int {
	for i := 1; i < len(log); i++ {
		if strings.HasPrefix(log[i-1].Kind, "checkpoint") || strings.HasPrefix(log[i].Kind, "checkpoint") {
			continue
		}
		if log[i].Off/e != log[i-1].Off/e && log[i].Off%e == 0 {
			return i
		}
	}
	return -1
}

// TestApplyDeltaRunPastTheChunk: a delta record whose CRC is right but
// whose run ends past the chunk it applies to (a run of 2 bytes at the
// chunk's last byte) is refused as corrupt, not applied in part.
func TestApplyDeltaRunPastTheChunk(t *testing.T) {
	base := make([]byte, 64)
	data := make([]byte, 64)
	data[30], data[31] = 1, 2
	rec := encodeDelta(FormatVersion, 1, 0, 7, base, data)
	require.NoError(t, applyDelta(rec, 1, 0, make([]byte, 64)), "the chunk it was made for")
	p := make([]byte, 31)
	err := applyDelta(rec, 1, 0, p)
	require.ErrorIs(t, err, ErrCorrupt)
	require.Equal(t, make([]byte, 31), p, "nothing applied")
}

// TestCheckpointDeltaPastTheBlock: a checkpoint-deltas entry whose delta
// record would end past its erase block is refused as corrupt; one that
// ends exactly at the block's end is taken.
func TestCheckpointDeltaPastTheBlock(t *testing.T) {
	_, s := newStore(t)
	require.GreaterOrEqual(t, s.layout.Version, uint32(deltaVersion))
	e := uint32(s.layout.EraseSize)
	for _, tc := range []struct {
		off, n uint32
		ok     bool
	}{
		{e - 64, 64, true},
		{e - 40, 64, false},
		{e - 1, deltaOverhead, false},
	} {
		ref := DeltaRef{Block: 5, Off: tc.off, Len: tc.n}
		st := State{Types: []TypeState{{Type: 1, Chunks: []Chunk{{Block: 0, Deltas: []DeltaRef{ref}}}}}}
		bodies := checkpointDeltaBodies(s.layout.EraseSize, 3, &st)
		require.Len(t, bodies, 1)
		into := State{Types: []TypeState{{Type: 1, Chunks: []Chunk{{Block: 0}}}}}
		n := int(s.layout.DataBlocks)
		err := s.checkpointDeltas(record{body: bodies[0]}, 3, &into, newBlockSet(n), newBlockSet(n))
		if tc.ok {
			require.NoError(t, err, "%+v", ref)
			require.Equal(t, []DeltaRef{ref}, into.Types[0].Chunks[0].Deltas)
		} else {
			require.ErrorIs(t, err, ErrCorrupt, "%+v", ref)
		}
	}
}

// TestSuperblockFindingNotInAJournal: a damaged superblock copy is
// reported at its own offset (copy 0 at the store's, copy 1 one erase
// block after it) as damage outside the journal areas (Area -1), as an
// erased copy is.
func TestSuperblockFindingNotInAJournal(t *testing.T) {
	for _, i := range []int64{0, 1} {
		for _, erase := range []bool{false, true} {
			f, _ := newStore(t)
			e := f.Geometry().EraseSize
			at := testStoreOff + i*e
			if erase {
				require.NoError(t, f.Erase(at, e))
			} else {
				_, err := f.WriteAt(make([]byte, 16), at+8) // clears bits: the copy's CRC fails
				require.NoError(t, err)
			}
			s := openTest(t, f, Options{ReadOnly: true})
			var got []Finding
			for _, fd := range s.Findings() {
				if fd.Kind == SuperblockDamaged {
					got = append(got, fd)
				}
			}
			require.Len(t, got, 1, "copy %d erased %v: %v", i, erase, s.Findings())
			require.Equal(t, at, got[0].Off, "copy %d erased %v", i, erase)
			require.Equal(t, -1, got[0].Area, "copy %d erased %v", i, erase)
			require.Contains(t, got[0].Detail, fmt.Sprintf("superblock copy %d is", i))
		}
	}
}

// TestRecordsLostOffset: a journal block whose first record is lost
// (erased) while a later record of it is valid: Open reports RecordsLost
// at that later record's offset, with its sequence number.
func TestRecordsLostOffset(t *testing.T) {
	f, s := newStore(t)
	e := f.Geometry().EraseSize
	log := roundsUntilCrossing(t, f, s, func(log []RecordInfo, k int) bool { return log[k+1].Off/e == log[k].Off/e })
	k := crossing(log, e)
	first, later := log[k], log[k+1]
	require.NotZero(t, later.Off%e, "the later record is not at the block's start")

	blankInBlock(t, f, e, first.Off, first.Size)
	lost := findingsOf(t, f, RecordsLost)
	require.Len(t, lost, 1)
	require.Equal(t, later.Off, lost[0].Off, "reported at the later valid record")
	require.Equal(t, later.Seq, lost[0].Seq)
}

// blankInBlock rewrites the erase block (of e bytes) holding [off, off+n)
// with those bytes erased and the rest as it was.
func blankInBlock(t *testing.T, f hal.Flash, e, off, n int64) {
	t.Helper()
	blk := off - off%e
	buf := make([]byte, e)
	_, err := f.ReadAt(buf, blk)
	require.NoError(t, err)
	for i := off - blk; i < off-blk+n; i++ {
		buf[i] = 0xFF
	}
	require.NoError(t, f.Erase(blk, e))
	_, err = f.WriteAt(buf, blk)
	require.NoError(t, err)
}

// findingsOf opens the store on f read-only and returns its findings of
// kind k, of which there must be one at least.
func findingsOf(t *testing.T, f hal.Flash, k FindingKind) []Finding {
	t.Helper()
	out := findingsOfKind(t, f, k)
	require.NotEmpty(t, out, "no finding of kind %v", k)
	return out
}

// findingsOfKind returns the findings of kind k of a read-only Open of f.
func findingsOfKind(t *testing.T, f hal.Flash, k FindingKind) []Finding {
	t.Helper()
	r, err := Open(f, testStoreOff, testStoreSize, Options{ReadOnly: true})
	require.NoError(t, err)
	var out []Finding
	for _, fd := range r.Findings() {
		if fd.Kind == k {
			out = append(out, fd)
		}
	}
	return out
}
