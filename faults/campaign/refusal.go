package campaign

import (
	"context"
	"fmt"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// Refusing a backup: damage before the round can leave a backup store the
// engine must not trust — one that no longer decodes, or one that is not
// the backup's (its superblock names another chip or another pair: the
// backup re-imaged from a dump of the primary). Refusing it with a clear
// error and writing nothing, so losing nothing, is correct; handling it
// (the invariants judge that) is too.

// refusable says why the engine may refuse the run's backup store ("" if
// it may not): the damage before the round left one that does not decode,
// or that names another chip than chip B, or another pair than chip A's
// store.
func (w *worker) refusable(t *trial) string {
	base := t.damagedBase
	if base == nil {
		return ""
	}
	if base.err != nil {
		return fmt.Sprintf("the damage before the round left no readable store on chip 1 (%v)", base.err)
	}
	sb := base.backup.Superblock
	if sb.ChipID != 1 {
		return fmt.Sprintf("after the damage before the round, chip 1's store says it is chip %d's", sb.ChipID)
	}
	if a := w.view(0, nil); a.err == nil && a.backup.Superblock.PairID != sb.PairID {
		return fmt.Sprintf("after the damage before the round, chip 1's store is of pair %#x, chip 0's of pair %#x", sb.PairID, a.backup.Superblock.PairID)
	}
	return ""
}

// storesWritten reports whether writes wrote chip 0 at all or chip 1's
// store.
func (w *worker) storesWritten(writes []faults.Op) bool {
	l := w.bench.layout
	for _, op := range writes {
		if chipOf(op) == 0 || op.Off < l.StoreOff+l.StoreSize && op.Off+op.Len > l.StoreOff {
			return true
		}
	}
	return false
}

// judgeRefusal judges a run whose backup store the engine may refuse
// (why) and did: the round reported an error and neither the round nor
// the recovery wrote a store. The round after recovery must refuse it too
// (an error, nothing written); rec is nil if the recovery refused to open
// the pair at all.
func (w *worker) judgeRefusal(vs verdicts, t *trial, rec *recovery, writes []faults.Op, why string) {
	if rec != nil {
		defer rec.engine.Release()
		var liveWrites []faults.Op
		rec.sink = &liveWrites
		_, err := rec.engine.Round(context.Background())
		switch {
		case w.storesWritten(liveWrites):
			vs.fail(Live, "%s; the round after recovery wrote to a store: %v", why, liveWrites[0])
			return
		case err == nil:
			vs.fail(Live, "%s; the round after recovery reported no error", why)
			return
		}
	}
	refused := fmt.Sprintf("%s; refused with an error, nothing written: %v", why, t.roundErr)
	for _, inv := range []string{Atomic, Durable, Purged, Reinit, Live, BoundedCost, Policy} {
		vs.ok(inv, "%s", refused)
	}
	failedOver := false
	for _, ev := range t.preEvents {
		failedOver = failedOver || ev.Kind == engine.EventFailover
	}
	if due, _ := failoverDue(t.answers, w.bench.threshold()); failedOver != due {
		vs.fail(Failover, "%s; failover due %v, made %v", why, due, failedOver)
	} else {
		vs.ok(Failover, "%s; failover due %v, made %v", why, due, failedOver)
	}
	w.checkPrimary(vs, writes, 0, w.bench.primaryBaseStats)
	checkWear(vs, writes, t.faultedWrites, t.cuts, t.exhausted, w.bench.eraseSize, "round and recovery")
	checkInterruptBound(vs, t.answers, t.roundWrites, t.roundFaulted, 0, 0, w.bench.eraseSize, w.bench.threshold(), w.bench.interruptBound)
}
