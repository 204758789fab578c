package campaign

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// checkLive: with no more faults, the next round on the recovered engine
// succeeds and leaves the primary's current information on the backup;
// the live round, too, neither writes the primary nor wears a block beyond
// WearBound. writes are all the programs and erases since the base.
//
// The verdicts of a live round are memoised (with worker.memoLive) by
// what it starts from (liveKey and the recovery's operations); a point
// whose live round is not due (Options.LiveEvery) skips the invariant.
func (w *worker) checkLive(ctx context.Context, vs verdicts, rec *recovery, writes []faults.Op, last *generation, rf liveRestore) {
	if !w.liveDue {
		vs.skip(Live, "not checked for this point (see Options.LiveEvery)")
		return
	}
	var key uint64
	hit := false
	var lv []Verdict
	if w.memoLive {
		key = w.liveKey(writes, rec.engine) ^ rec.opsHash.Sum64()
		lv, hit = w.liveVerdicts[key]
	}
	if !hit {
		var liveWrites []faults.Op
		rec.sink = &liveWrites
		lv = w.liveRound(ctx, rec.engine, &liveWrites, last, rf)
		w.liveRounds++
		if w.memoLive {
			w.liveVerdicts[key] = lv
		}
	}
	for _, v := range lv {
		vs.set(v)
	}
}

// liveKey fingerprints what the live round starts from: the contents of
// every block written so far (the rest is the base, the same for every
// point) and the recovered engine's configuration and generation.
func (w *worker) liveKey(writes []faults.Op, e *engine.Engine) uint64 {
	w.offsetBuf = w.changedBlocks(w.offsetBuf[:0], writes, nil)
	var h maphash.Hash
	h.SetSeed(hashSeed)
	w.quiet(func() { w.hashBlocks(&h, w.offsetBuf, true) })
	st := e.Status()
	fmt.Fprintf(&h, "gen=%d active=%d cfg=%v", st.Generation, st.ActiveChip, describe(e.Config()))
	return h.Sum64()
}

// liveRound runs the round after recovery on e, with writes collecting its
// programs and erases, and returns the verdicts it decides: live,
// bounded-wear and primary-untouched for the round. The backup must then
// hold the primary's information: chip A's current information, or, after
// a failover (chip B active), last, the last committed generation, which
// the failover restored into chip B's region.
//
// A round that starts with a failover's restore pending retries it and
// may write the active chip's information region (only there); if the
// retry fails, the round must refuse to commit, as judgeRestoreRefusal
// judges.
func (w *worker) liveRound(ctx context.Context, e *engine.Engine, writes *[]faults.Op, last *generation, rf liveRestore) []Verdict {
	vs := verdicts{}
	st := e.Status()
	active, pending := st.ActiveChip, st.RestorePending
	backup := 1 - active
	baseline := w.chips[active].Stats()
	var pre *storeView // the active chip's store, for the role record completing a pending restore
	if pending {
		pre = w.view(active, w.lastWrites)
	}
	opened, n := e.Status().Counters, len(e.Events())
	rep, err := e.Round(ctx)
	var ran *engine.RoundReport
	if rep.Outcome != "" {
		ran = &rep
	}
	checkCounted(vs, countedSince("the live round's engine", e, opened, n, ran))
	if err != nil {
		if pending && errors.Is(err, engine.ErrRestorePending) {
			w.judgeRestoreRefusal(vs, err, active, *writes, last, rf)
			checkWear(vs, *writes, nil, 0, 0, w.bench.eraseSize, "live round")
			w.checkPrimaryRestore(vs, *writes, active, baseline, pending, pre)
			return vs.list()
		}
		vs.fail(Live, "the round after recovery failed: %v", err)
		return vs.list()
	}
	if rep.Outcome != engine.OutcomeCommitted && rep.Outcome != engine.OutcomeNothingChanged {
		vs.fail(Live, "the round after recovery did not commit: %s (%s)", rep.Outcome, rep.Anomaly)
		return vs.list()
	}
	all := append(slices.Clone(w.lastWrites), *writes...)
	post := w.view(backup, all)
	if post.err != nil {
		vs.fail(Live, "after the live round the reference decoder cannot read the backup (chip %d): %v", backup, post.err)
		return vs.list()
	}
	want := w.bench.roundGen
	if active != 0 {
		if want, err = w.afterFailover(active, last); err != nil {
			vs.fail(Live, "after the failover chip %d's information region is unreadable: %v", active, err)
			return vs.list()
		}
	}
	var ms []mismatch
	w.setTouched(all)
	w.quiet(func() { ms = w.matches(backup, post, want) })
	if len(ms) > 0 {
		vs.fail(Live, "after the live round (%s) generation %d on chip %d does not hold the primary's information: %s", rep.Outcome, post.generation, backup, listMismatches(ms))
		return vs.list()
	}
	checkWear(vs, *writes, nil, 0, 0, w.bench.eraseSize, "live round")
	w.checkPrimaryRestore(vs, *writes, active, baseline, pending, pre)
	if active == 0 && !pending {
		w.checkLiveCost(vs, rf.post, post, *writes, rep.Outcome, rf.runDamaged)
		w.checkPolicy(vs, "live round", rf.post, post)
	}
	vs.ok(Live, "the round after recovery: %s, generation %d on chip %d holds the primary's information", rep.Outcome, post.generation, backup)
	return vs.list()
}

// regionGeneration reads the information a chip's region holds now.
func (w *worker) regionGeneration(chip int) (*generation, error) {
	r, err := info.OpenRegion(w.chips[chip], w.bench.layout.InfoOff, w.bench.layout.InfoSize)
	if err != nil {
		return nil, err
	}
	return readGeneration(r, w.bench.scenario.Types, 0, engine.Config{})
}

// afterFailover is what the backup must hold after the live round that
// follows a failover: the last committed generation (which the failover
// restored into the active chip's region), and, for the types it does not
// hold (damage before the round destroyed their commits), what the active
// chip's region holds.
func (w *worker) afterFailover(active int, last *generation) (*generation, error) {
	if len(last.payloads) == len(w.bench.scenario.Types) {
		return last, nil
	}
	var region *generation
	var err error
	w.quiet(func() { region, err = w.regionGeneration(active) })
	if err != nil {
		return nil, err
	}
	for t, p := range last.payloads {
		region.payloads[t] = p
	}
	region.number = last.number
	return region, nil
}
