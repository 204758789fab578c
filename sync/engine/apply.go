package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// ErrStale is returned by Apply when the engine is no longer in the state
// the round was prepared from.
var ErrStale = errors.New("prepared round is stale")

// Apply runs the second half of a prepared round: probe the primary again,
// write the chunks whose digests changed (intent, data, commit record),
// probing between writes, and handle an anomaly as Round does. Its report
// covers the whole round, both halves.
//
// p may come from this engine or from another engine opened on the same
// flash contents: Apply first checks that this engine is in the state p
// was prepared from (the backup's committed generation, the newest
// generation on either chip, the active chip and the configuration) and
// returns an error wrapping ErrStale, having done nothing, if not. It
// writes what Prepare read: a CMC that changed its information since (the
// PrimaryLock is not held between the halves) has it synced by the next
// round.
func (e *Engine) Apply(ctx context.Context, p *Prepared) (RoundReport, error) {
	if err := e.readOnly("apply"); err != nil {
		return RoundReport{}, err
	}
	e.lockRound()
	defer e.unlockRound()
	if p == nil {
		return RoundReport{}, fmt.Errorf("%w: nil prepared round", ErrStale)
	}
	e.mu.Lock()
	active, cfg := int(e.role.Active), e.config
	e.mu.Unlock()
	bk, err := e.backupStore()
	switch {
	case err != nil:
		return RoundReport{}, err
	case active != p.activeChip:
		return RoundReport{}, fmt.Errorf("%w: prepared with chip %d active, chip %d is now", ErrStale, p.activeChip, active)
	case !cfg.Equal(p.config):
		return RoundReport{}, fmt.Errorf("%w: the configuration changed since it was prepared", ErrStale)
	case bk.StateRef().Generation != p.baseGeneration || max(e.storeGen(0), e.storeGen(1))+1 != p.report.Generation:
		return RoundReport{}, fmt.Errorf("%w: prepared to commit generation %d over %d; the backup now holds %d", ErrStale, p.report.Generation, p.baseGeneration, bk.StateRef().Generation)
	}
	e.countRound()
	if err := e.retryRestore(); err != nil {
		rep := p.report
		rep.Types = slices.Clone(p.report.Types)
		rep.Outcome = OutcomeRestorePending
		return e.finish(&rep, e.newWork(e.chips[active], e.chips[1-active]), err)
	}
	return e.apply(ctx, p, false)
}

// apply runs the second half of p (see Apply) with the round lock
// (roundMu) held. If owned, the round owns p's payload buffers (Round's
// own prepare): they go back to the pool when the round fails, or into the
// engine's cache when it commits. Otherwise p is shared and left as it is
// (a commit caches copies).
func (e *Engine) apply(ctx context.Context, p *Prepared, owned bool) (RoundReport, error) {
	active := p.activeChip
	rep := p.report
	rep.Types = slices.Clone(p.report.Types)
	primary, backup := e.chips[active], e.chips[1-active]
	work := e.newWork(primary, backup)
	work.carried = p.work
	if !p.haveStats {
		work.haveStats = false
	}
	e.mu.Lock()
	e.primaryVersion = p.header.Version
	e.mu.Unlock()
	bk, err := e.backupStore()
	if err != nil {
		return e.finish(&rep, work, err)
	}
	rs := e.newRoundState(&rep, primary, bk, p.config)
	rs.header, rs.lastProbe, rs.recordOffsets = p.header, p.lastProbe, p.recordOffsets
	kept := false // the payloads went into the engine's cache
	defer func() {
		if owned {
			p.release(kept)
		}
	}()
	if _, err := e.probe(rs, &rs.header); err != nil {
		return e.interrupted(ctx, rs, nil, err)
	}

	// Write: intent, data, commit.
	bk.SetVerify(p.config.Verify)
	// A long run of intent records (a round that rewrites most chunks) or
	// a compaction's checkpoint is several programs: probe between them
	// as between chunks, so an anomaly of the primary stops the round
	// within the same bound of backup writes.
	bk.SetBetweenWrites(func() error { return e.probeIfDue(rs) })
	r, err := bk.Begin(e.deltaPlan(p))
	bk.SetBetweenWrites(nil)
	if err != nil {
		var an *anomaly
		if errors.As(err, &an) {
			return e.interrupted(ctx, rs, r, an)
		}
		if r != nil {
			r.Abandon()
		}
		return e.finish(&rep, work, fmt.Errorf("begin round: %w", err))
	}
	writes := r.Writes()
	changedTypes, changedChunks := r.Changed()
	rep.ChangedChunks = changedChunks
	for _, t := range changedTypes {
		rep.ChangedTypes = append(rep.ChangedTypes, info.Type(t))
	}
	if e.opts.Mutant == PrimaryWritten { // MUTANT: write to the primary
		e.scribblePrimary(primary)
	}
	if e.opts.Mutant == CommitBeforeDurable { // MUTANT: commit before the data
		if err := r.Commit(e.commitState(p)); err != nil {
			return e.finish(&rep, work, err)
		}
	}
	full := len(writes)                      // the full chunks come first, the delta blocks last
	if e.opts.Mutant == DeltaBeforeDurable { // MUTANT: commit before the delta blocks
		for full > 0 && writes[full-1].Type == store.DeltaBlockType {
			full--
		}
	}
	if end := e.writeChunks(ctx, rs, r, writes[:full], 0, p, work); end != nil {
		return end.report, end.err
	}
	if full < len(writes) {
		if err := r.Commit(e.commitState(p)); err != nil {
			return e.finish(&rep, work, err)
		}
		if end := e.writeChunks(ctx, rs, r, writes[full:], full, p, work); end != nil {
			return end.report, end.err
		}
	}
	if e.opts.Mutant != CommitBeforeDurable && full == len(writes) {
		if len(writes) > 0 {
			if _, err := e.probe(rs, &rs.header); err != nil {
				return e.interrupted(ctx, rs, r, err)
			}
		}
		if err := r.Commit(e.commitState(p)); err != nil {
			r.Abandon()
			return e.finish(&rep, work, err)
		}
	}
	kept = true
	e.committed(rs, p, owned, changedChunks)
	return e.finish(&rep, work, nil)
}

// roundEnd is how a round ended before its commit: its report and error.
type roundEnd struct {
	report RoundReport
	err    error
}

// writeChunks is the sync step of the method: it writes the round's
// changed chunks (writes, from store.Round.Writes), probing the primary
// before a write whenever Options.ProbeEvery has passed since the last
// probe, so no chunk write starts later than ProbeEvery after the primary
// last answered correctly (RoundReport.WritesAfterAnomaly). A chunk write
// runs to its end once started, its own erase included and, when a page
// reads back weak, the re-programs of its block (store.Round.Write): no
// probe separates those. It returns nil once every chunk is written, or how the round ended: stopped by ctx,
// interrupted by an anomaly of the primary, or failed by a write.
func (e *Engine) writeChunks(ctx context.Context, rs *roundState, r *store.Round, writes []store.ChunkWrite, first int, p *Prepared, work *roundWork) *roundEnd {
	for k, w := range writes {
		i := first + k
		if err := ctx.Err(); err != nil {
			rep, err := e.stopped(rs, r, err)
			return &roundEnd{rep, err}
		}
		if err := e.probeIfDue(rs); err != nil {
			rep, err := e.interrupted(ctx, rs, r, err)
			return &roundEnd{rep, err}
		}
		// A delta block's bytes are the store's (Write takes nil).
		var data []byte
		n := w.Bytes
		if w.Type != store.DeltaBlockType {
			b, err := p.chunkBytes(w.Type, w.Index)
			if err != nil {
				r.Abandon()
				rep, err := e.finish(rs.report, work, err)
				return &roundEnd{rep, err}
			}
			data, n = b, int64(len(b))
		}
		er, pg, err := r.Write(i, data)
		work.counted.Erases += er
		work.counted.PagesProgrammed += pg
		rs.report.DataErases += er
		rs.report.DataPages += pg
		rs.writesSinceAnswer++
		work.counted.BytesProgrammed += n
		if err != nil {
			r.Abandon()
			err = fmt.Errorf("write %s: %w", writeName(w), err)
			if !errors.Is(err, hal.ErrPowerLoss) {
				// The backup failed (media error, verify mismatch): purge
				// now rather than at the next round.
				if perr := e.purgeRound(rs); perr != nil {
					err = errors.Join(err, perr)
				}
			}
			rep, err := e.finish(rs.report, work, err)
			return &roundEnd{rep, err}
		}
	}
	return nil
}

// writeName names a write of a round in errors: a chunk of a type, or a
// delta block.
func writeName(w store.ChunkWrite) string {
	if w.Type == store.DeltaBlockType {
		return fmt.Sprintf("delta block %d (data block %d)", w.Index, w.Block)
	}
	return fmt.Sprintf("chunk %d of %v", w.Index, info.Type(w.Type))
}

// deltaPlan returns p's plan with each type's payload, so the store can
// commit chunks that changed in a few bytes as delta records. p is not
// modified (a Prepared is immutable).
func (e *Engine) deltaPlan(p *Prepared) store.Plan {
	plan := p.plan
	plan.Types = slices.Clone(p.plan.Types)
	for i := range plan.Types {
		t := plan.Types[i].Type
		if b, ok := p.payloads[t]; ok {
			plan.Types[i].Payload = b
		} else {
			plan.Types[i].Chunk = func(k int) ([]byte, error) { return p.chunkBytes(t, k) }
		}
	}
	return plan
}

// probeIfDue probes the primary if Options.ProbeEvery has passed since
// the last probe (before a chunk write: no chunk write starts later than
// ProbeEvery after the primary last answered correctly). It returns the
// probe's anomaly, if any.
func (e *Engine) probeIfDue(rs *roundState) error {
	if now := e.clock.Now(); now.Sub(rs.lastProbe) >= e.opts.ProbeEvery && e.opts.Mutant != NoWriteProbe { // MUTANT: no probe while writing
		if _, err := e.probe(rs, &rs.header); err != nil {
			return err
		}
	}
	return nil
}

// commitState returns the head of the generation p commits (the commit
// record): its time, the next sync one interval later, the configuration,
// the image version, the upgrade choice, the group cursor moved past this
// round's group, and the engine's role.
func (e *Engine) commitState(p *Prepared) store.State {
	cfg := p.config
	now := e.now()
	st := store.State{Generation: p.report.Generation, Time: now, NextSync: now.Add(cfg.Interval), Config: toStoreConfig(cfg),
		ImageVersion: p.header.Version, UpgradeChoice: p.committedChoice, Role: e.role}
	if p.choice != NoChoice {
		st.UpgradeChoice = uint8(p.choice)
	}
	if len(cfg.Types) > 0 && cfg.GroupSize > 0 && p.choice == NoChoice {
		st.GroupNext = uint16((int(p.groupNext) + cfg.GroupSize) % len(cfg.Types))
	}
	return st
}

// committed records a round that committed after writing changed chunks:
// the damage of its types is repaired, its payloads are kept to compare
// the next round's against (copies if p is shared, see apply), and the
// schedule, counters, outcome and event log follow the new generation.
func (e *Engine) committed(rs *roundState, p *Prepared, owned bool, changed int) {
	rep := rs.report
	for _, t := range p.report.Types {
		delete(e.rewriteChunks, t)
	}
	st := rs.backup.StateRef()
	payloads := p.payloads
	if !owned {
		// The cache owns what it holds: copies of the shared payloads.
		own := make(map[uint8][]byte, len(payloads))
		for t, b := range payloads {
			c := getPayload(len(b))
			copy(c, b)
			own[t] = c
		}
		payloads = own
	}
	e.remember(p.activeChip, p.baseGeneration, st.Generation, payloads)
	e.refreshNewestState()
	e.mu.Lock()
	e.lastSync = st.Time
	e.nextSync = st.NextSync
	e.upgradePending = false
	e.notSynced, e.notSyncedSince = "", time.Time{}
	for _, t := range p.report.Types {
		delete(e.primaryErrors, t)
	}
	e.counters.Commits++
	if changed == 0 {
		e.counters.NothingChanged++
	}
	e.mu.Unlock()
	rep.Outcome = OutcomeCommitted
	if changed == 0 {
		rep.Outcome = OutcomeNothingChanged
	}
	e.event(EventCommit, rep.Generation, fmt.Sprintf("%s: %d chunks of %v written to %s; next sync %s",
		rep.Outcome, changed, rep.ChangedTypes, e.chips[1-p.activeChip].Geometry().Name, st.NextSync.UTC().Format(time.RFC3339)))
	e.repaired(p.report.Types, st.Generation)
}
