package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TestFailedRoleRecordIsOutrankedByTheNextCommit: a failover is due (the
// round's first primary read answers after twice the threshold), but both
// attempts at the role record fail their read-back although the records
// are on the backup's flash. The engine reports the error and goes on with
// the primary (chip A). A start right then finds a valid role record naming
// chip B and completes the failover, as after a power loss during it. Once
// the engine's next round has committed, a start keeps chip A active: a
// role record the engine gave up on does not switch the chips at some
// later start. (Here both records sit where the journal's next write
// erases them again; a record left earlier in a block is outranked by the
// next commit, which carries the engine's role and comes later in the same
// journal: docs/FORMAT.md 4.8.)
func TestFailedRoleRecordIsOutrankedByTheNextCommit(t *testing.T) {
	cfg := DefaultConfig()
	p := committedPair(t, cfg)
	slow := fmtSchedule("(on (at %d) (delay %v))", nextOp(t, p.traceRound(t, p.opts, "none"), -1, faults.Primary, faults.Read), 2*cfg.Threshold)
	// The role record's program, then its read-back; the retry's likewise.
	ops := p.traceRound(t, p.opts, "%s", slow)
	readBack1 := nextOp(t, ops, nextOp(t, ops, -1, faults.Backup, faults.Program), faults.Backup, faults.Read)
	once := slow + fmtSchedule(" (on (at %d) (fail media))", readBack1)
	ops = p.traceRound(t, p.opts, "%s", once)
	readBack2 := nextOp(t, ops, nextOp(t, ops, readBack1, faults.Backup, faults.Program), faults.Backup, faults.Read)
	ctx := context.Background()
	e, in := p.openWithFaults(t, p.opts, "%s (on (at %d) (fail media))", once, readBack2)
	before := e.Status().RoleEpoch
	_, err := e.Round(ctx)
	require.Error(t, err, "no role record read back: the failover is refused")
	require.Equal(t, 0, e.Status().ActiveChip)

	// The premise: a valid role record naming chip B is on its flash.
	s, err := store.Open(p.chipB, p.opts.Layout.StoreOff, p.opts.Layout.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	require.Equal(t, store.Role{Epoch: before + 1, Active: 1, RestorePending: true}, s.StateRef().Role, "the role record landed")

	// A start now completes the failover.
	snapA, snapB := p.chipA.Snapshot(), p.chipB.Snapshot()
	now, err := Open(ctx, p.chipA, p.chipB, p.opts)
	require.NoError(t, err)
	require.Equal(t, 1, now.Status().ActiveChip, "a start before the next commit finds the role record")
	p.chipA.Restore(snapA)
	p.chipB.Restore(snapB)

	// The engine's next round, with the backup answering again, commits.
	in.Disarm()
	require.NoError(t, p.cmc.Step(p.region(t, p.chipA), cfg.Interval))
	rep, err := e.Round(ctx)
	require.NoError(t, err)
	require.Equal(t, OutcomeCommitted, rep.Outcome)
	require.Equal(t, 0, e.Status().ActiveChip)

	later, err := Open(ctx, p.chipA, p.chipB, p.opts)
	require.NoError(t, err)
	require.Equal(t, 0, later.Status().ActiveChip, "the commit outranks the role record the engine gave up on")
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

func fmtSchedule(format string, args ...any) string { return fmt.Sprintf(format, args...) }
