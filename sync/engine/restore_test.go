package engine

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TestRestoreFailureRefusesRoundsUntilItCompletes: a committed chunk of
// one type is damaged on the backup and the primary's record of that type
// has moved on since its commit, so no good copy of it exists; then the
// primary stops answering. The failover's restore writes every other type,
// reports exactly the one it could not restore (RestoreError, the
// restore-failed event, Status.RestoreFailed, the counter), and stays
// pending: no round commits (nothing reaches the new backup's store), at
// a restart neither; once a good copy exists (the old primary's record is
// the committed payload again), the next round completes the restore and
// commits.
func TestRestoreFailureRefusesRoundsUntilItCompletes(t *testing.T) {
	ctx := context.Background()
	p := committedPair(t, DefaultConfig())
	l := p.opts.Layout
	s, err := store.Open(p.chipB, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	committed := map[info.Type][]byte{}
	var victim info.Type
	for _, ty := range info.All() {
		want, err := s.ReadPayload(uint8(ty))
		require.NoError(t, err)
		committed[ty] = want
		rec, err := p.region(t, p.chipA).Read(ty)
		require.NoError(t, err)
		if victim == 0 && !bytes.Equal(rec.Payload, want) {
			victim = ty
		}
	}
	require.NotZero(t, victim, "a type the CMC changed since the commit")
	ts, ok := s.StateRef().Type(uint8(victim))
	require.True(t, ok)
	off := s.BlockOffset(ts.Chunks[0].Block) + 10
	b := readRange(t, p.chipB, off, 1)
	p.chipB.Poke(off, []byte{^b[0]})

	n := midWrite(t, p.traceRound(t, p.opts, "none"))
	e, _ := p.openWithFaults(t, p.opts, "(on (and primary read (after %d)) (fail timeout))", n)
	gen := e.Status().Generation
	rep, err := e.Round(ctx)
	require.Equal(t, OutcomeFailover, rep.Outcome)
	var re *RestoreError
	require.ErrorAs(t, err, &re)
	require.ErrorIs(t, err, ErrRestorePending)
	require.Equal(t, TypeList{victim}, re.Types(), "exactly the type without a good copy failed: %v", err)
	st := e.Status()
	require.True(t, st.RestorePending)
	require.Equal(t, TypeList{victim}, st.RestoreFailed)
	require.Equal(t, int64(1), st.Counters.RestoreFailures)
	require.Contains(t, eventKinds(e), EventRestoreFailed)
	requireRestoredBut := func(skip info.Type) {
		t.Helper()
		for _, ty := range info.All() {
			if ty == skip {
				continue
			}
			rec, err := p.region(t, p.chipB).Read(ty)
			require.NoError(t, err, "%v", ty)
			require.Equal(t, committed[ty], rec.Payload, "%v restored", ty)
		}
	}
	requireRestoredBut(victim)

	// Rounds refuse while it is pending, with the old primary still
	// silent and after a restart with it answering: nothing is written to
	// chip A (the new backup), the generation stays.
	refused := func(e *Engine) {
		t.Helper()
		before := p.chipA.Stats()
		rep, err := e.Round(ctx)
		require.ErrorIs(t, err, ErrRestorePending)
		require.ErrorAs(t, err, &re)
		require.Equal(t, TypeList{victim}, re.Types())
		require.Equal(t, OutcomeRestorePending, rep.Outcome)
		after := p.chipA.Stats()
		require.Equal(t, before.Programs, after.Programs, "chip A programmed")
		require.Equal(t, before.Erases, after.Erases, "chip A erased")
		require.Equal(t, gen, e.Status().Generation)
		require.True(t, e.Status().RestorePending)
	}
	refused(e)
	e2, err := Open(ctx, p.chipA, p.chipB, p.opts)
	require.NoError(t, err)
	require.True(t, e2.Status().RestorePending)
	refused(e2)

	// A good copy again: the old primary's record is the committed payload.
	require.NoError(t, p.region(t, p.chipA).Write(victim, committed[victim]))
	rep, err = e2.Round(ctx)
	require.NoError(t, err)
	require.Contains(t, []string{OutcomeCommitted, OutcomeNothingChanged}, rep.Outcome)
	require.Greater(t, rep.Generation, gen)
	st = e2.Status()
	require.False(t, st.RestorePending)
	require.Empty(t, st.RestoreFailed)
	require.Contains(t, eventKinds(e2), EventRestore)
	requireRestoredBut(0)
}
