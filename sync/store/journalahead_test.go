package store

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// idleErase runs what the engine's idle erase runs: journal blocks ahead
// of the tail (the last round's count and one more), then every free data
// block; journalToo false leaves the journal out.
func idleErase(t *testing.T, s *Store, journalToo bool) {
	t.Helper()
	for journalToo {
		st, err := s.EraseJournalAhead(s.JournalBlocksUsed() + 1)
		require.NoError(t, err)
		if st.Done {
			require.GreaterOrEqual(t, st.Ready, s.JournalBlocksUsed()+1)
			break
		}
	}
	for {
		st, err := s.EraseAhead(math.MaxInt)
		require.NoError(t, err)
		if st.Done {
			break
		}
	}
}

// TestIdleEraseLeavesTheRoundNoErase: after the idle erase (journal blocks
// ahead, then every free data block) a round erases nothing: neither its
// chunks' blocks nor the journal blocks its records enter. Erasing the
// data blocks alone leaves the round its journal erases.
func TestIdleEraseLeavesTheRoundNoErase(t *testing.T) {
	for _, journalToo := range []bool{false, true} {
		s, f, ps := wrappedStore(t)
		require.Positive(t, s.JournalBlocksUsed())
		dataOnly := int64(0) // erases of the rounds after a data-only idle erase
		for round := range 6 {
			idleErase(t, s, journalToo)
			for i := range 40 {
				ps[1][(round*40+i)%200*4096+100] ^= 0xFF
			}
			before := f.Stats()
			runRound(t, s, s.State().Generation+1, ps)
			erases := f.Stats().Sub(before).Erases
			if journalToo {
				require.Zero(t, erases, "round %d", round)
			}
			dataOnly += erases
			checkPayloads(t, s, ps)
		}
		if !journalToo {
			require.Positive(t, dataOnly, "the rounds erase the journal blocks their records enter")
		}
		s2 := openTest(t, f, Options{ReadOnly: true})
		require.Equal(t, s.State().Generation, s2.State().Generation)
		checkPayloads(t, s2, ps)
	}
}

// TestEraseJournalAheadCompactsAFullJournal: near the end of the area the
// idle step compacts (the next round would), so the round after it finds
// room and its blocks erased.
func TestEraseJournalAheadCompactsAFullJournal(t *testing.T) {
	s, f, ps := wrappedStore(t)
	epoch := s.epoch
	for gen := s.State().Generation + 1; s.epoch == epoch; gen++ {
		idleErase(t, s, true)
		ps[1][int(gen%200)*4096+9] ^= 0x3C
		before := f.Stats()
		runRound(t, s, gen, ps)
		require.Zero(t, f.Stats().Sub(before).Erases, "generation %d", gen)
		require.Less(t, gen, uint64(5000))
	}
	checkPayloads(t, openTest(t, f, Options{ReadOnly: true}), ps)
}

// TestEraseJournalAheadPowerCut: a power cut or a torn erase at any
// operation of the journal's erase ahead leaves the committed generation
// whole, and the reopened store's next round commits correct chunks.
func TestEraseJournalAheadPowerCut(t *testing.T) {
	requireIdleStepPowerSafe(t, func(s *Store) error {
		var err error
		for i := 0; i < 6 && err == nil; i++ {
			_, err = s.EraseJournalAhead(8)
		}
		return err
	})
}

// TestEraseJournalAheadLooksAtTheWindowsLastBlock: at a journal block that
// starts an erase window, the step erases the whole window when the
// window's last block does not read erased, else that one block; a block
// past the window does not count. Steps before it erase one block each.
func TestEraseJournalAheadLooksAtTheWindowsLastBlock(t *testing.T) {
	chip := newChip(t)
	formatTest(t, chip)
	base := chip.Snapshot()
	e := chip.Geometry().EraseSize
	for _, tc := range []struct {
		name   string
		dirty  int64 // block after the window's first to program
		erased int   // the window step's erase blocks
	}{
		{"last block of the window used", 15, 16},
		{"block after the window used", 16, 1},
		{"second block after the window used", 17, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chip.Restore(base)
			f, log := logErases(chip)
			s := openTest(t, f, Options{})
			w := int64(s.windowBlocks())
			require.Equal(t, int64(16), w)
			nb := int64(s.layout.JournalBlocks)
			aoff := s.areaOff(s.area)
			first := s.tailBlock // the first block a step erases
			win := first
			for (aoff+win*e)%eraseWindow != 0 {
				win++
			}
			require.Less(t, win+w, nb)
			chip.Poke(aoff+(win+tc.dirty)*e+100, []byte{0x12, 0x34})
			for b := first; b < win; b++ {
				st, err := s.EraseJournalAhead(int(nb))
				require.NoError(t, err)
				require.Equal(t, 1, st.Erased, "block %d", b)
			}
			log.erases = nil
			st, err := s.EraseJournalAhead(int(nb))
			require.NoError(t, err)
			require.Equal(t, tc.erased, st.Erased)
			require.Equal(t, [][2]int64{{aoff + win*e, int64(tc.erased) * e}}, log.erases)
			require.Equal(t, int(win-first)+tc.erased, st.Ready)
		})
	}
}

// TestEraseJournalAheadCompactsAnAreaFullAtOpen: a store opened on a
// journal area whose last block holds records may not append there, so
// its idle step compacts whatever it is asked to keep ready (here
// nothing): one step, into the other area, a new epoch; the staged
// configuration and the committed state stay.
func TestEraseJournalAheadCompactsAnAreaFullAtOpen(t *testing.T) {
	f, s := newStore(t)
	ps := payloads{1: randomBytes(1, 30000)}
	runRound(t, s, 1, ps)
	nb := int64(s.layout.JournalBlocks)
	area, epoch := s.area, s.epoch
	cfg := Config{Types: []uint8{1, 2, 3}, Interval: time.Hour}
	for s.tailBlock < nb-1 {
		require.NoError(t, s.StageConfig(cfg))
	}
	require.Equal(t, area, s.area, "filled without a compaction")
	s = openTest(t, f, Options{})
	require.Equal(t, area, s.area)
	require.Equal(t, nb, s.tailBlock, "the last block holds records")
	st, err := s.EraseJournalAhead(0)
	require.NoError(t, err)
	require.Equal(t, 1, st.Erased, "one step: the compaction")
	require.Equal(t, 1-area, s.area)
	require.Equal(t, epoch+1, s.epoch)
	got, staged := s.Staged()
	require.True(t, staged)
	require.True(t, cfg.Equal(got))
	st, err = s.EraseJournalAhead(0)
	require.NoError(t, err)
	require.Equal(t, EraseAheadStep{Ready: st.Ready, Done: true}, st, "nothing more to do")
	requireReopens(t, f, s, ps)
}
