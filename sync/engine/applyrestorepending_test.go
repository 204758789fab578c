package engine

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TestApplyRefusesWhileTheRestoreIsPendingOnChipB: after a failover to
// chip B whose restore could not write one type (no good copy of it
// anywhere), a round prepared on the same flash contents once a good copy
// exists (its Prepare completes the restore) is applied by an engine
// opened on the contents before that: Apply's own retry of the restore
// fails, and it refuses the round (OutcomeRestorePending, ErrRestorePending,
// the type named) with chip B active: nothing is written to chip A (the
// backup) and nothing is committed.
func TestApplyRefusesWhileTheRestoreIsPendingOnChipB(t *testing.T) {
	ctx := context.Background()
	p := committedPair(t, DefaultConfig())
	l := p.opts.Layout
	s, err := store.Open(p.chipB, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	var victim info.Type
	var good []byte
	for _, ty := range info.All() {
		want, err := s.ReadPayload(uint8(ty))
		require.NoError(t, err)
		rec, err := p.region(t, p.chipA).Read(ty)
		require.NoError(t, err)
		if victim == 0 && !bytes.Equal(rec.Payload, want) {
			victim, good = ty, want
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
	rep, err := e.Round(ctx)
	require.Equal(t, OutcomeFailover, rep.Outcome)
	require.ErrorIs(t, err, ErrRestorePending)
	require.Equal(t, 1, e.Status().ActiveChip, "chip B is active")
	pendingA, pendingB := p.chipA.Snapshot(), p.chipB.Snapshot()

	// A good copy of the victim on chip A: Prepare completes the restore
	// and prepares a round with chip B active.
	require.NoError(t, p.region(t, p.chipA).Write(victim, good))
	e1, err := Open(ctx, p.chipA, p.chipB, p.opts)
	require.NoError(t, err)
	prep, rep, err := e1.Prepare(ctx)
	require.NoError(t, err, "outcome %s", rep.Outcome)
	require.NotNil(t, prep)
	require.False(t, e1.Status().RestorePending)

	// Back to the contents with the restore pending and no good copy.
	p.chipA.Restore(pendingA)
	p.chipB.Restore(pendingB)
	e2, err := Open(ctx, p.chipA, p.chipB, p.opts)
	require.NoError(t, err)
	st := e2.Status()
	require.True(t, st.RestorePending)
	require.Equal(t, 1, st.ActiveChip)
	gen := st.Generation
	beforeA := p.chipA.Stats()
	rep, err = e2.Apply(ctx, prep)
	require.ErrorIs(t, err, ErrRestorePending)
	var re *RestoreError
	require.ErrorAs(t, err, &re)
	require.Equal(t, TypeList{victim}, re.Types())
	require.Equal(t, OutcomeRestorePending, rep.Outcome)
	afterA := p.chipA.Stats()
	require.Equal(t, beforeA.Programs, afterA.Programs, "chip A (the backup) programmed")
	require.Equal(t, beforeA.Erases, afterA.Erases, "chip A (the backup) erased")
	require.Equal(t, gen, e2.Status().Generation)
	require.True(t, e2.Status().RestorePending)
}
