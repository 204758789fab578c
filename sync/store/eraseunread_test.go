package store

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
)

// eraseAllAhead runs EraseAhead until it is done and returns the blocks
// it erased.
func eraseAllAhead(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	for {
		st, err := s.EraseAhead(1 << 30)
		require.NoError(t, err)
		n += st.Erased
		if st.Done {
			return n
		}
	}
}

// rewriteChunks gives chunks lo..hi-1 of payload b (testPhase) new random
// bytes: each differs in most of its bytes, so a round writes it whole.
func rewriteChunks(b []byte, lo, hi int, seed uint64) {
	from := max(lo*4096-testPhase, 0)
	to := min(hi*4096-testPhase, len(b))
	copy(b[from:to], randomBytes(seed, to-from))
}

// TestEraseAheadIsNotReadBackOnNOR: on NOR the erase ahead reads nothing
// back, and a round that programs whole chunks into those blocks reads
// each back twice (its program's read-backs) and not a third time.
func TestEraseAheadIsNotReadBackOnNOR(t *testing.T) {
	s, f, ps := wrappedStore(t)
	before := f.Stats()
	require.Positive(t, eraseAllAhead(t, s))
	require.Zero(t, f.Stats().Sub(before).BytesRead, "the erase ahead reads nothing back")

	const chunks = 40 // whole chunks 1..40
	rewriteChunks(ps[1], 1, 1+chunks, 77)
	before = f.Stats()
	erases, _ := runRound(t, s, s.State().Generation+1, ps)
	require.Zero(t, erases, "the round programs erased-ahead blocks")
	read := f.Stats().Sub(before).BytesRead
	require.GreaterOrEqual(t, read, int64(2*chunks*4096), "every chunk read back twice")
	require.Less(t, read, int64(3*chunks*4096), "no erase check read besides")
	checkPayloads(t, s, ps)
	require.Empty(t, s.VerifyChunks())
}

// TestEraseAheadThatDidNotRun: every erase of the erase ahead reports
// success and does nothing (or erases in part). A round then writes whole
// chunks there, whose read-backs catch it (the block is erased again and
// the chunk programmed again), a chunk of at least half a block, whose
// read-backs compare the rest of its block with 0xFF too, and a shorter
// chunk, whose block is read before it is programmed and erased again:
// the bytes of both blocks past their chunk's length read erased (they
// held 0 bits that a read-back of the chunk alone would not see). The generation reads back whole at the next open.
func TestEraseAheadThatDidNotRun(t *testing.T) {
	for _, mode := range []string{"unchanged", "partial"} {
		t.Run(mode, func(t *testing.T) {
			_, f, ps := wrappedStore(t)
			in := faults.NewInjector(mustSchedule(t, "(on erase (silent-erase "+mode+"))"), faults.Options{Disarmed: true})
			s := openTest(t, in.Wrap(f, faults.Backup), Options{})
			gen := s.State().Generation
			in.Arm()
			require.Positive(t, eraseAllAhead(t, s))
			in.Disarm()
			require.NotEmpty(t, in.Fired())
			// Every block erased ahead is then left erased but for 0
			// bits in its last 32 bytes, past both of type 3's chunks,
			// where their programs leave them and read-backs of the
			// chunks alone do not look.
			short := int64(5000 + testPhase - 4096)
			left := append(bytes.Repeat([]byte{0xFF}, 4096-testPhase), make([]byte, testPhase)...)
			for b := range s.layout.DataBlocks {
				if s.erased.has(b) && s.unread.has(b) {
					f.Poke(s.dataOff(b), left)
				}
			}

			rewriteChunks(ps[1], 1, 41, 78)
			ps[3] = randomBytes(6, 5000) // a new type: two chunks written whole, of 4064 and 936 bytes
			gen++
			runRound(t, s, gen, ps)
			checkPayloads(t, s, ps)
			require.Empty(t, s.VerifyChunks())
			ts, ok := s.StateRef().Type(3)
			require.True(t, ok)
			require.Len(t, ts.Chunks, 2)
			for i, n := range []int64{4096 - testPhase, short} {
				tail := make([]byte, 4096-n)
				_, err := f.ReadAt(tail, s.dataOff(ts.Chunks[i].Block)+n)
				require.NoError(t, err)
				require.True(t, hal.IsErased(tail), "chunk %d's block reads erased past its %d bytes", i, n)
			}
			reopened(t, in, f, gen, ps)
		})
	}
}

// TestWindowReadsUnreadSpares: a round's first write into an erase window
// reads the window's spares that were erased ahead without a read-back (a
// commit makes a spare known erased for good) and erases the window when
// one does not read erased; the blocks it programs whole are left to
// their own read-backs.
func TestWindowReadsUnreadSpares(t *testing.T) {
	s, f, _ := wrappedStore(t)
	n := s.windowBlocks()
	require.Greater(t, n, uint32(1))
	ws, ok := s.nextFreeWindow(s.cursor, n, 1, map[uint32]bool{})
	require.True(t, ok)
	r := &Round{store: s, blocks: map[uint32]bool{}, spares: map[uint32]bool{}, scratch: make([]byte, s.eraseSize)}
	for k := ws; k < ws+n; k++ {
		r.blocks[k] = true
		if k != ws {
			r.spares[k] = true
		}
		s.erased.add(k)
		s.unread.add(k)
		f.Poke(s.dataOff(k), bytes.Repeat([]byte{0xFF}, int(s.eraseSize)))
	}
	// An erase ahead of the last spare that did not run.
	f.Poke(s.dataOff(ws+n-1)+100, []byte{0x00})
	erases, err := r.prepareBlock(ws, true)
	require.NoError(t, err)
	require.Equal(t, int64(n), erases, "the window is erased")
	buf := make([]byte, s.eraseSize)
	_, err = f.ReadAt(buf, s.dataOff(ws+n-1))
	require.NoError(t, err)
	require.True(t, hal.IsErased(buf))
	require.True(t, s.erased.has(ws+n-1))
	require.False(t, s.unread.has(ws+n-1))
}

// TestEraseForAWholeChunkIsNotReadBack: a dirty block erased alone for a
// chunk is read back after its erase unless the chunk fills it (whole on
// NOR), whose program's read-backs catch an erase that did not run.
func TestEraseForAWholeChunkIsNotReadBack(t *testing.T) {
	for _, tc := range []struct {
		name  string
		whole bool
		read  int64
	}{
		{"whole chunk", true, 0},
		{"short chunk", false, 4096},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, f, _ := wrappedStore(t)
			b, ok := s.nextFreeWindow(s.cursor, s.windowBlocks(), 1, map[uint32]bool{})
			require.True(t, ok)
			require.True(t, s.dirty(b))
			r := &Round{store: s, blocks: map[uint32]bool{b: true}, scratch: make([]byte, s.eraseSize)}
			before := f.Stats()
			erases, err := r.prepareBlock(b, tc.whole)
			require.NoError(t, err)
			require.Equal(t, int64(1), erases)
			require.Equal(t, tc.read, f.Stats().Sub(before).BytesRead)
		})
	}
}

// TestVerifiesWhole: which writes' read-backs compare the whole block (and
// need no erase check): a whole chunk always; one of at least half a
// block when its block would be read back for its erase otherwise (erased
// ahead and not read, or dirty); never a shorter one, nor one into a
// block known erased or blank.
func TestVerifiesWhole(t *testing.T) {
	s, _, _ := wrappedStore(t)
	b, ok := s.nextFreeWindow(s.cursor, s.windowBlocks(), 1, map[uint32]bool{})
	require.True(t, ok)
	r := &Round{store: s}
	for _, tc := range []struct {
		name          string
		n             int
		state         string // dirty, unread, erased, blank
		verifiesWhole bool
	}{
		{"whole, dirty", 4096, "dirty", true},
		{"whole, erased", 4096, "erased", true},
		{"half, dirty", 2048, "dirty", true},
		{"half, unread", 2048, "unread", true},
		{"half, erased", 2048, "erased", false},
		{"half, blank", 2048, "blank", false},
		{"less than half, dirty", 2047, "dirty", false},
		{"less than half, unread", 2047, "unread", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.erased.remove(b)
			s.unread.remove(b)
			s.blank.remove(b)
			switch tc.state {
			case "unread":
				s.erased.add(b)
				s.unread.add(b)
			case "erased":
				s.erased.add(b)
			case "blank":
				s.blank.add(b)
			}
			require.Equal(t, tc.verifiesWhole, r.verifiesWhole(b, make([]byte, tc.n)))
		})
	}
}
