package campaign

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// A failover's restore may fail for a type only when no good copy of its
// last committed payload exists: the backup store's copy is damaged (the
// faults damaged its blocks since they were written, or the reference
// decoder does not read it back) and the old primary's region (chip 0)
// does not hold it either. Such a failure must be reported (the engine's
// Status lists the type in RestoreFailed, with the restore pending) and
// then no round may commit until the restore completes. A failure that is
// not reported, or is reported while a good copy exists, is a violation.

// goodCopy says where a good copy of t's payload in g exists ("" if none):
// in chip 0's information region, or in the backup store of chip 1 (post,
// read back by the reference decoder) when damaged does not say its
// blocks were damaged.
func (w *worker) goodCopy(t info.Type, g *generation, post *storeView, damaged func(info.Type) bool) string {
	want, held := g.payloads[t]
	if !held {
		return ""
	}
	var where string
	w.quiet(func() {
		if r, err := info.OpenRegion(w.chips[0], w.bench.layout.InfoOff, w.bench.layout.InfoSize); err == nil {
			if rec, err := r.Read(t); err == nil && bytes.Equal(rec.Payload, want) {
				where = "chip 0's information region"
				return
			}
		}
		if damaged(t) || post == nil || post.backup == nil {
			return
		}
		if p, err := post.backup.Payload(w.chips[1], uint8(t)); err == nil && bytes.Equal(p, want) {
			where = "chip 1's backup store"
		}
	})
	return where
}

// restoreExcused returns which types the failover check excuses from
// holding g on the active chip: those the engine reported it could not
// restore (st) and of which no good copy exists.
func (w *worker) restoreExcused(st engine.Status, g *generation, post *storeView, damaged func(info.Type) bool) func(info.Type) bool {
	return func(t info.Type) bool {
		return st.RestorePending && slices.Contains(st.RestoreFailed, t) && w.goodCopy(t, g, post, damaged) == ""
	}
}

// liveRestore is what the live round's restore checks need from the
// judged point: the backup store of chip 1 after recovery (read by the
// reference decoder) and which types' committed blocks the faults damaged.
type liveRestore struct {
	post    *storeView
	damaged func(info.Type) bool
	// runDamaged: the harness damaged the chips in the run (see
	// checkLiveCost).
	runDamaged bool
}

// judgeRestoreRefusal judges a live round that refused to commit because
// a failover's restore is pending (err wraps engine.ErrRestorePending): it
// holds if the error names the types that failed, none of them has a good
// copy, chip active's region holds every other type of last, and the
// round wrote nothing to the backup chip.
func (w *worker) judgeRestoreRefusal(vs verdicts, err error, active int, writes []faults.Op, last *generation, rf liveRestore) {
	var re *engine.RestoreError
	if !errors.As(err, &re) || len(re.Failed) == 0 {
		vs.fail(Live, "the round after recovery refused to commit for a pending restore without naming the types that failed: %v", err)
		return
	}
	backup := 1 - active
	for _, op := range writes {
		if chipOf(op) == backup {
			vs.fail(Live, "the round after recovery refused to commit for a pending restore, yet wrote the backup (chip %d): %v", backup, op)
			return
		}
	}
	failed := re.Types()
	for _, t := range failed {
		if where := w.goodCopy(t, last, rf.post, rf.damaged); where != "" {
			vs.fail(Live, "the round after recovery refused to commit: the restore of %v failed (%v), but %s holds its last committed payload", t, err, where)
			return
		}
	}
	var d string
	w.quiet(func() {
		d = w.regionDiffers(active, last, func(t info.Type) bool { return slices.Contains(failed, t) })
	})
	if d != "" {
		vs.fail(Live, "the round after recovery refused to commit for a pending restore of %s, but chip %d's information region %s", info.FormatList(failed), active, d)
		return
	}
	vs.ok(Live, "the round after recovery refused to commit: the restore of %s failed and was reported, and no good copy of it exists (%s); the other types are restored and nothing was written to the backup", info.FormatList(failed), strings.TrimSpace(fmt.Sprint(err)))
}

// checkPrimaryRestore is checkPrimary for the live round; if a failover's
// restore was pending when it started (pending), the round may have
// written the active chip's information region (the restore's retry) and,
// once the retry completed, the role record that says so (docs/FORMAT.md,
// 4.8: "appends a role record with restore pending = 0" to the active
// chip's store), and only there: the other writes must spare the active
// chip. pre is what the reference decoder read of the active chip's store
// before the round (nil if no restore was pending).
func (w *worker) checkPrimaryRestore(vs verdicts, writes []faults.Op, active int, baseline hal.Stats, pending bool, pre *storeView) {
	if !pending {
		w.checkPrimary(vs, writes, active, baseline)
		return
	}
	lo, hi := w.bench.layout.InfoOff, w.bench.layout.InfoOff+w.bench.layout.InfoSize
	restored := 0
	var store []faults.Op
	for _, op := range writes {
		if chipOf(op) != active {
			continue
		}
		if op.Off < lo || op.Off+op.Len > hi {
			store = append(store, op)
			continue
		}
		restored++
	}
	if len(store) > 0 {
		post := w.view(active, append(slices.Clone(w.lastWrites), writes...))
		if why := judgeRoleRecord(pre, post, store, active); why != "" {
			vs.fail(PrimaryIntact, "the primary (chip %d) was written outside its information region while a restore was pending: %s", active, why)
			return
		}
	}
	vs.ok(PrimaryIntact, "no program or erase reached the primary (chip %d) but %d write(s) of the pending restore to its information region and %d of the role record completing it", active, restored, len(store))
}

// judgeRoleRecord judges ops, the writes of a live round to the active
// chip (active) outside its information region while a failover's restore
// was pending, from the active chip's store as the reference decoder read
// it before (pre) and after (post) the round: they are the role record
// that completes the restore (docs/FORMAT.md, 4.8) only if the store's
// role now names active with no restore pending, every write lies in its
// journal (not its superblocks, not its data area), and — when neither
// journal is damaged (how a writer steps over damage is not bounded) —
// every record the journal gained is a role record, every program lies
// inside one of them and every erase covers the block one begins in. It
// returns why not ("" if they are).
func judgeRoleRecord(pre, post *storeView, ops []faults.Op, active int) string {
	if post == nil || post.err != nil || pre == nil || pre.err != nil {
		return fmt.Sprintf("%v, and the reference decoder cannot read chip %d's store before and after the round to find a role record", ops[0], active)
	}
	b := post.backup
	if r := b.Committed.Role; r.RestorePending || int(r.Active) != active {
		return fmt.Sprintf("%v, yet chip %d's store's role (epoch %d, active %d, restore pending %v) does not record the restore completed", ops[0], active, r.Epoch, r.Active, r.RestorePending)
	}
	e := b.Superblock.EraseSize
	jOff, jSize := b.MetadataRange()
	for _, op := range ops {
		if op.Off < b.StoreOff+2*e || op.Off+op.Len > jOff+jSize {
			return fmt.Sprintf("%v, outside the journal of chip %d's store, where only the role record completing the restore may go", op, active)
		}
	}
	if pre.backup.Damaged() || b.Damaged() {
		return ""
	}
	var lastSeq uint64
	for _, r := range pre.backup.Journal {
		lastSeq = max(lastSeq, r.Seq)
	}
	var fresh []reference.Record
	for _, r := range b.Journal {
		if r.Seq <= lastSeq {
			continue
		}
		if r.Kind != reference.KindRole {
			return fmt.Sprintf("chip %d's store gained a %v record (seq %d) in the round, not only the role record completing the restore", active, r.Kind, r.Seq)
		}
		fresh = append(fresh, r)
	}
	for _, op := range ops {
		var ok bool
		switch op.Kind {
		case faults.Program:
			ok = slices.ContainsFunc(fresh, func(r reference.Record) bool { return op.Off >= r.Off && op.Off+op.Len <= r.Off+r.Size })
		case faults.Erase:
			ok = slices.ContainsFunc(fresh, func(r reference.Record) bool { return r.Off >= op.Off/e*e && r.Off < op.Off+op.Len })
		}
		if !ok {
			return fmt.Sprintf("%v, which serves no role record chip %d's journal gained in the round", op, active)
		}
	}
	return ""
}
