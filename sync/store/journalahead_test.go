package store

import (
	"math"
	"testing"

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
