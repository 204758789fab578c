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
	e.lockRound()
	defer e.unlockRound()
	if p == nil {
		return RoundReport{}, fmt.Errorf("%w: nil prepared round", ErrStale)
	}
	e.mu.Lock()
	active, cfg := int(e.role.Active), e.cfg
	e.mu.Unlock()
	bk, err := e.backupStore()
	switch {
	case err != nil:
		return RoundReport{}, err
	case active != p.active:
		return RoundReport{}, fmt.Errorf("%w: prepared with chip %d active, chip %d is now", ErrStale, p.active, active)
	case !cfg.Equal(p.cfg):
		return RoundReport{}, fmt.Errorf("%w: the configuration changed since it was prepared", ErrStale)
	case bk.StateRef().Generation != p.prevGen || max(e.storeGen(0), e.storeGen(1))+1 != p.rep.Generation:
		return RoundReport{}, fmt.Errorf("%w: prepared to commit generation %d over %d; the backup now holds %d", ErrStale, p.rep.Generation, p.prevGen, bk.StateRef().Generation)
	}
	e.countRound()
	return e.apply(ctx, p, false)
}

// apply runs the second half of p (see Apply) with the op lock held. If
// owned, the round owns p's payload buffers (Round's own prepare): they go
// back to the pool when the round fails, or into the engine's cache when
// it commits. Otherwise p is shared and left as it is (a commit caches
// copies).
func (e *Engine) apply(ctx context.Context, p *Prepared, owned bool) (RoundReport, error) {
	active := p.active
	cfg := p.cfg
	rep := p.rep
	rep.Types = slices.Clone(p.rep.Types)
	primary, backup := e.chips[active], e.chips[1-active]
	work := e.newWork(primary, backup)
	work.carried = p.work
	if !p.haveStats {
		work.haveStats = false
	}
	e.mu.Lock()
	e.primVer = p.hdr.Version
	e.mu.Unlock()
	bk, err := e.backupStore()
	if err != nil {
		return e.finish(&rep, work, err)
	}
	rc := &roundCtx{rep: &rep, primary: &timedPrimary{Flash: primary, clock: e.clock, threshold: cfg.Threshold}, bk: bk, cfg: cfg, hdr: p.hdr, lastProbe: p.lastProbe, recOffs: p.recOffs}
	hdr := p.hdr
	gen := rep.Generation
	payloads, phases, chunk := p.payloads, p.phases, p.chunk
	kept := false // the payloads went into the engine's cache
	defer func() {
		if owned && !kept {
			for _, b := range payloads {
				putPayload(b)
			}
		}
	}()
	if _, err := e.probe(rc, &rc.hdr); err != nil {
		return e.interrupted(ctx, rc, nil, err)
	}

	// Write: intent, data, commit.
	bk.SetVerify(cfg.Verify)
	r, err := bk.Begin(p.plan)
	if err != nil {
		if r != nil {
			r.Abandon()
		}
		return e.finish(&rep, work, fmt.Errorf("begin round: %w", err))
	}
	writes := r.Writes()
	rep.ChangedChunks = len(writes)
	for _, w := range writes {
		if !slices.Contains(rep.ChangedTypes, info.Type(w.Type)) {
			rep.ChangedTypes = append(rep.ChangedTypes, info.Type(w.Type))
		}
	}
	if e.opts.Mutant == PrimaryWritten { // MUTANT: write to the primary
		e.scribblePrimary(primary)
	}
	commit := func() error {
		now := e.clock.Now()
		st := store.State{Generation: gen, Time: now, NextSync: now.Add(cfg.Interval), Config: toStoreConfig(cfg),
			ImageVersion: hdr.Version, UpgradeChoice: p.upgrade, Role: e.role}
		if p.choice != NoChoice {
			st.UpgradeChoice = uint8(p.choice)
		}
		if len(cfg.Types) > 0 && cfg.GroupSize > 0 && p.choice == NoChoice {
			st.GroupNext = uint16((int(p.next) + cfg.GroupSize) % len(cfg.Types))
		}
		return r.Commit(st)
	}
	if e.opts.Mutant == CommitBeforeDurable { // MUTANT: commit before the data
		if err := commit(); err != nil {
			return e.finish(&rep, work, err)
		}
	}
	for i, w := range writes {
		if err := ctx.Err(); err != nil {
			return e.stopped(rc, r, err)
		}
		if now := e.clock.Now(); now.Sub(rc.lastProbe) >= e.opts.ProbeEvery {
			if _, err := e.probe(rc, &rc.hdr); err != nil {
				return e.interrupted(ctx, rc, r, err)
			}
		}
		b := payloads[w.Type]
		lo, hi := store.ChunkBounds(int64(len(b)), phases[w.Type], chunk, w.Index)
		er, pg, err := r.Write(i, b[lo:hi])
		work.counted.Erases += er
		work.counted.PagesProgrammed += pg
		rep.DataErases += er
		rep.DataPages += pg
		work.counted.BytesProgrammed += hi - lo
		if err != nil {
			r.Abandon()
			err = fmt.Errorf("write chunk %d of %v: %w", w.Index, info.Type(w.Type), err)
			if !errors.Is(err, hal.ErrPowerLoss) {
				// The backup failed (media error, verify mismatch): purge
				// now rather than at the next round.
				if in := bk.Interrupted(); in != nil {
					rep.PurgedBlocks = len(in.Blocks)
					if perr := e.purgeAndReinit(bk, in); perr != nil {
						err = errors.Join(err, perr)
					}
				}
			}
			return e.finish(&rep, work, err)
		}
	}
	if e.opts.Mutant != CommitBeforeDurable {
		if len(writes) > 0 {
			if _, err := e.probe(rc, &rc.hdr); err != nil {
				return e.interrupted(ctx, rc, r, err)
			}
		}
		if err := commit(); err != nil {
			r.Abandon()
			return e.finish(&rep, work, err)
		}
	}
	for _, t := range p.rep.Types {
		delete(e.rewrite, t)
	}
	st := bk.StateRef()
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
	e.remember(active, p.prevGen, st.Generation, payloads)
	kept = true
	e.refreshSnap()
	e.mu.Lock()
	e.lastSync = st.Time
	e.nextSync = st.NextSync
	e.upgrade = false
	e.counters.Commits++
	if len(writes) == 0 {
		e.counters.NothingChanged++
	}
	e.mu.Unlock()
	rep.Outcome = OutcomeCommitted
	if len(writes) == 0 {
		rep.Outcome = OutcomeNothingChanged
	}
	e.event(EventCommit, gen, fmt.Sprintf("%s: %d chunks of %v written to %s; next sync %s",
		rep.Outcome, len(writes), rep.ChangedTypes, backup.Geometry().Name, st.NextSync.UTC().Format(time.RFC3339)))
	return e.finish(&rep, work, nil)
}
