package engine

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/store"
)

// purgeVerifyRead returns the first read of the backup in ops after its
// first erase after operation n: the read-back of the first block the
// purge of a round interrupted at n erases.
func purgeVerifyRead(t testing.TB, ops []faults.Op, n int64) faults.Op {
	t.Helper()
	erased := false
	for _, op := range ops {
		if op.Index <= n || op.Role != faults.Backup {
			continue
		}
		switch {
		case op.Kind == faults.Erase:
			erased = true
		case op.Kind == faults.Read && erased:
			return op
		}
	}
	t.Fatal("no read of the backup after an erase after the interruption")
	return faults.Op{}
}

// TestPurgeRereadsAFailedVerifyRead: the read-back of a block the purge
// erased fails once with a media error. The purge reads the block again
// (it reads erased) instead of failing, so the round's purge is verified
// and its purged mark written, and no block is erased more than twice in
// the round: once before the round wrote it, once by the purge (a failed
// purge would leave the recovery to erase every block a third time).
func TestPurgeRereadsAFailedVerifyRead(t *testing.T) {
	p := committedPair(t, DefaultConfig())
	n := midWrite(t, p.traceRound(t, p.opts, "none"))
	anomaly := "(on (at %d) (fail media))"
	v := purgeVerifyRead(t, p.traceRound(t, p.opts, anomaly, n), n)

	var ops []faults.Op
	in, chipA, chipB := p.injector(t, true, func(op faults.Op) {
		op.Data = nil
		ops = append(ops, op)
	}, anomaly+" (on (at %d) (fail media))", n, v.Index)
	e, err := Open(context.Background(), chipA, chipB, p.opts)
	require.NoError(t, err)
	in.Arm()
	rep, err := e.Round(context.Background())
	require.NoError(t, err)
	require.Equal(t, OutcomeInterrupted, rep.Outcome, "%+v", rep)
	require.Greater(t, rep.PurgedBlocks, 0, "the anomaly came while writing")
	require.Contains(t, eventKinds(e), EventPurgeVerified)
	require.NotContains(t, eventKinds(e), EventError)

	bs := p.chipB.Geometry().EraseSize
	erases := map[int64]int{}
	erasedAgain, reads := 0, 0
	for _, op := range ops {
		switch {
		case op.Role != faults.Backup:
		case op.Kind == faults.Erase:
			for off := op.Off; off < op.Off+op.Len; off += bs {
				erases[off]++
			}
			if op.Index > v.Index && op.Off <= v.Off && v.Off < op.Off+op.Len {
				erasedAgain++
			}
		case op.Kind == faults.Read && op.Off == v.Off && op.Index >= v.Index:
			reads++
		}
	}
	for off, k := range erases {
		require.LessOrEqual(t, k, 2, "backup block at %#x erased %d times in the round", off, k)
	}
	require.Zero(t, erasedAgain, "the block whose read-back failed is read again, not erased again")
	require.GreaterOrEqual(t, reads, 2, "the failed read-back is read again")

	// Nothing interrupted is left for the recovery to purge again.
	s, err := store.Open(p.chipB, p.opts.Layout.StoreOff, p.opts.Layout.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	require.Nil(t, s.Interrupted())
	require.NotNil(t, s.LastPurged())
}
