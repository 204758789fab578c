package store

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEraseAheadStepCountsWhatItMadeReady: each EraseAhead step reports
// the free blocks known erased after it (Ready: those before it and the
// ones it erased), and Done on the step that reaches want, not one step
// later.
func TestEraseAheadStepCountsWhatItMadeReady(t *testing.T) {
	s, _, _ := wrappedStore(t)
	ready := s.readyBlocks()
	want := ready + 40
	steps := 0
	for {
		st, err := s.EraseAhead(want)
		require.NoError(t, err)
		steps++
		require.Positive(t, st.Erased, "step %d", steps)
		require.Equal(t, ready+st.Erased, st.Ready, "step %d: the blocks it erased were dirty", steps)
		require.Equal(t, s.readyBlocks(), st.Ready, "step %d", steps)
		require.Equal(t, st.Ready >= want, st.Done, "step %d", steps)
		ready = st.Ready
		if st.Done {
			break
		}
		require.Less(t, steps, 40)
	}
	require.GreaterOrEqual(t, steps, 2)
	st, err := s.EraseAhead(want)
	require.NoError(t, err)
	require.Equal(t, EraseAheadStep{Ready: ready, Done: true}, st, "nothing more to do")
}
