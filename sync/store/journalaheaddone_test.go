package store

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEraseJournalAheadSaysDoneWhenReady: EraseAheadStep.Done is what its
// doc says — nothing more to do — on the very step that makes want
// journal blocks ready, whatever want is: a caller that stops on Done
// (the engine's idle erase) must not be sent round again for a step that
// erases nothing.
func TestEraseJournalAheadSaysDoneWhenReady(t *testing.T) {
	for want := 1; want <= 8; want++ {
		s, f, _ := wrappedStore(t)
		for step := 0; ; step++ {
			require.Less(t, step, 64, "want %d", want)
			st, err := s.EraseJournalAhead(want)
			require.NoError(t, err)
			if st.Ready >= want {
				require.True(t, st.Done, "want %d, step %d: %d blocks ready but not done", want, step, st.Ready)
			}
			if st.Done {
				break
			}
		}
		before := f.Stats()
		st, err := s.EraseJournalAhead(want)
		require.NoError(t, err)
		require.True(t, st.Done)
		require.Zero(t, st.Erased)
		require.Zero(t, f.Stats().Sub(before).Erases, "want %d", want)
	}
}
