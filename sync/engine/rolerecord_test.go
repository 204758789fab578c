package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TestRefusedFailoverKeepsThePrimary: a failover is due (the round's first
// primary read answers after twice the threshold), and from the role
// record's first program on the backup's reads fail for a window of
// operations, of every length from 1 to 150. Where that refuses the
// failover (the round fails), the engine goes on with the primary (chip
// A); a start right then follows the role on the backup's flash (a valid
// role record naming chip B would complete the failover there, as after a
// power loss during it; the store zeroes or erases again a record whose
// read-back failed, so none stays here); and once the engine's next round
// has committed, a start keeps chip A active: a role record the engine
// gave up on never switches the chips at some later start.
func TestRefusedFailoverKeepsThePrimary(t *testing.T) {
	cfg := DefaultConfig()
	p := committedPair(t, cfg)
	slow := fmt.Sprintf("(on (at %d) (delay %v))", nextOp(t, p.traceRound(t, p.opts, "none"), -1, faults.Primary, faults.Read), 2*cfg.Threshold)
	roleProgram := nextOp(t, p.traceRound(t, p.opts, "%s", slow), -1, faults.Backup, faults.Program)
	ctx := context.Background()
	base := [2]*sim.Snapshot{p.chipA.Snapshot(), p.chipB.Snapshot()}
	refused := 0
	for window := int64(1); window <= 150; window++ {
		p.chipA.Restore(base[0])
		p.chipB.Restore(base[1])
		line := fmt.Sprintf("%s (on (and backup read (after %d) (before %d)) (fail media))", slow, roleProgram, roleProgram+window)
		e, in := p.openWithFaults(t, p.opts, "%s", line)
		if _, err := e.Round(ctx); err == nil {
			continue // failed over, or tried again and made it
		}
		refused++
		require.Equal(t, 0, e.Status().ActiveChip, "%s: the engine goes on with the primary", line)
		s, err := store.Open(p.chipB, p.opts.Layout.StoreOff, p.opts.Layout.StoreSize, store.Options{ReadOnly: true})
		require.NoError(t, err)
		onFlash := int(s.StateRef().Role.Active)
		now := [2]*sim.Snapshot{p.chipA.Snapshot(), p.chipB.Snapshot()}
		started, err := Open(ctx, p.chipA, p.chipB, p.opts)
		require.NoError(t, err)
		require.Equal(t, onFlash, started.Status().ActiveChip, "%s: a start follows the role on flash", line)
		p.chipA.Restore(now[0])
		p.chipB.Restore(now[1])

		in.Disarm()
		require.NoError(t, p.cmc.Step(p.region(t, p.chipA), cfg.Interval))
		rep, err := e.Round(ctx)
		require.NoError(t, err, line)
		require.Equal(t, OutcomeCommitted, rep.Outcome, line)
		later, err := Open(ctx, p.chipA, p.chipB, p.opts)
		require.NoError(t, err)
		require.Equal(t, 0, later.Status().ActiveChip, "%s: after the next commit a start keeps the primary", line)
	}
	require.Positive(t, refused, "no window refused the failover")
	t.Logf("%d of 150 windows refused the failover", refused)
}

// nextOp returns the index of the first operation of ops after index from
// with the role and kind given.
func nextOp(t testing.TB, ops []faults.Op, from int64, role faults.Role, kind faults.Kind) int64 {
	t.Helper()
	for _, op := range ops {
		if op.Index > from && op.Role == role && op.Kind == kind {
			return op.Index
		}
	}
	require.Failf(t, "no such operation", "no %v %v after #%d", role, kind, from)
	return -1
}
