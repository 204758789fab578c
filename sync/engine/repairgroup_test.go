package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TestRepairJoinsTheGroupsRound: with one type per round, a chunk of a
// type outside the next round's group that the scrub found damaged (the
// primary's copy intact) is rewritten by that round: the type joins the
// group, exactly its one chunk is written, and the repair event names it.
func TestRepairJoinsTheGroupsRound(t *testing.T) {
	ctx := context.Background()
	cfg := DefaultConfig()
	cfg.GroupSize = 1
	p := newPair(t, 8<<20, 1<<20, cfg)
	e := p.open(t)
	for range cfg.Types { // one round per type: every type committed
		_, err := e.Round(ctx)
		require.NoError(t, err)
	}
	l := p.opts.Layout
	chunk := p.chipB.Geometry().EraseSize
	s, err := store.Open(p.chipB, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	ts, ok := s.StateRef().Type(uint8(info.EventLog))
	require.True(t, ok)
	const damaged = 2
	backupOff := s.BlockOffset(ts.Chunks[damaged].Block)
	require.NotEqual(t, info.EventLog, cfg.Types[0])

	e, _ = p.openWithFaults(t, p.opts, "(on (at 0) (flip backup %#x %#x 1))", backupOff, backupOff+chunk)
	var found *ChunkDamage
	for step := 0; ; step++ {
		require.Less(t, step, 10000, "the pass ends")
		prog, err := e.ScrubStep(ctx)
		require.NoError(t, err)
		if prog.Damage != nil && prog.Damage.Repair != RepairChecking {
			found = prog.Damage
		}
		if prog.PassDone {
			break
		}
	}
	require.NotNil(t, found)
	require.Equal(t, ChunkDamage{Type: info.EventLog, Index: damaged, Repair: RepairRewrite}, ChunkDamage{Type: found.Type, Index: found.Index, Repair: found.Repair})

	rep, err := e.Round(ctx)
	require.NoError(t, err)
	require.Equal(t, OutcomeCommitted, rep.Outcome)
	require.Equal(t, TypeList{cfg.Types[0], info.EventLog}, rep.Types, "the damaged type joins the group's round")
	require.Equal(t, 1, rep.ChangedChunks, "only the damaged chunk is rewritten")
	var repairs []string
	for _, ev := range e.Events() {
		if ev.Kind == EventRepair {
			repairs = append(repairs, ev.Detail)
		}
	}
	require.Equal(t, []string{fmt.Sprintf("damaged chunks rewritten in generation %d: [%v chunk %d (%s)]", rep.Generation, info.EventLog, damaged, RepairRewrite)}, repairs)
	require.Empty(t, e.Status().ScrubDamage)
	s, err = store.Open(p.chipB, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	require.Empty(t, s.VerifyChunks(), "every committed chunk matches its digest")
	requireSynced(t, p, p.chipA, p.chipB, info.All())
}
