package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// Prepared is the first half of a round, made by Prepare: the primary
// probed and every type of the round's group read from its information
// region, its payload CRC checked and its chunks hashed. Nothing was
// written. Apply runs the second half.
//
// A Prepared is immutable: Apply only reads it, so it may be applied any
// number of times, by several engines at once. It holds the payloads it
// read (the region's size in memory) until it is dropped.
type Prepared struct {
	choice    UpgradeChoice
	active    int
	prevGen   uint64 // the backup's committed generation the round started from
	cfg       Config
	next      uint16 // the group's first type (store.State.GroupNext)
	upgrade   uint8  // the committed upgrade choice
	rep       RoundReport
	hdr       info.ImageHeader
	lastProbe time.Time
	recOffs   []int64
	plan      store.Plan
	payloads  map[uint8][]byte
	phases    map[uint8]int64
	chunk     int64
	// work is the first half's flash work: statistics of both chips when
	// they keep them (haveStats), else what the engine counted.
	work      hal.Stats
	haveStats bool
}

// Generation returns the generation the prepared round will commit.
func (p *Prepared) Generation() uint64 { return p.rep.Generation }

// Types returns the group of types the prepared round syncs.
func (p *Prepared) Types() TypeList { return slices.Clone(p.rep.Types) }

// Prepare runs the first half of a round (see Round): it probes the
// primary and reads, checks and hashes the round's group of types. If the
// round ends there (an anomaly of the primary, handled as Round handles it;
// an image upgrade pending; a flash or context error), Prepare returns a
// nil Prepared with the round's report and error, exactly as Round would
// have. Otherwise the report is empty and Apply finishes the round:
// Prepare then Apply does what Round does, operation for operation.
//
// Prepare and Apply let a fault harness branch: many engines opened on the
// same flash contents can each apply one prepared round under a different
// fault, without each reading the whole information region again.
func (e *Engine) Prepare(ctx context.Context) (*Prepared, RoundReport, error) {
	e.lockRound()
	defer e.unlockRound()
	p, rep, err := e.prepare(ctx, NoChoice)
	if p == nil {
		e.countRound()
	}
	return p, rep, err
}

// prepare is Prepare with the op lock held (see Prepare); choice is the
// upgrade choice of an upgrade round, NoChoice for a scheduled one.
func (e *Engine) prepare(ctx context.Context, choice UpgradeChoice) (*Prepared, RoundReport, error) {
	e.mu.Lock()
	active := int(e.role.Active)
	cfg := e.cfg.Clone()
	next := e.snap.GroupNext
	e.mu.Unlock()
	rep := RoundReport{Started: e.clock.Now()}
	primary, backup := e.chips[active], e.chips[1-active]
	work := e.newWork(primary, backup)
	ended := func(r RoundReport, err error) (*Prepared, RoundReport, error) { return nil, r, err }
	if err := ctx.Err(); err != nil {
		return ended(e.finish(&rep, work, err))
	}
	bk, err := e.backupStore()
	if err != nil {
		return ended(e.finish(&rep, work, err))
	}
	rc := &roundCtx{rep: &rep, primary: &timedPrimary{Flash: primary, clock: e.clock, threshold: cfg.Threshold}, bk: bk, cfg: cfg}
	prevGen := bk.StateRef().Generation
	// Probe the primary first.
	hdr, err := e.probe(rc, nil)
	if err != nil {
		return ended(e.interrupted(ctx, rc, nil, err))
	}
	rc.hdr = hdr
	e.mu.Lock()
	e.primVer = hdr.Version
	e.mu.Unlock()
	committed := bk.StateRef()
	if newest := e.newest().StateRef(); newest.ImageVersion != "" && hdr.Version != newest.ImageVersion && choice == NoChoice {
		e.mu.Lock()
		was := e.upgrade
		e.upgrade = true
		e.mu.Unlock()
		if !was {
			e.event(EventUpgrade, newest.Generation, fmt.Sprintf("primary image %s, generation %d was taken from %s: choose keep-upgraded or restore-defaults", hdr.Version, newest.Generation, newest.ImageVersion))
		}
		rep.Outcome = OutcomeUpgradePending
		return ended(e.finish(&rep, work, ErrUpgradePending))
	}
	types := group(cfg, next)
	if choice != NoChoice {
		types = slices.Clone(cfg.Types)
	}
	rep.Types = types
	gen := max(e.storeGen(0), e.storeGen(1)) + 1
	rep.Generation = gen

	// Collect.
	rc.primary.mark()
	region, err := info.OpenRegion(rc.primary, e.opts.Layout.InfoOff, e.opts.Layout.InfoSize)
	if err != nil {
		return ended(e.interrupted(ctx, rc, nil, &anomaly{err: err, when: rc.primary.failedAt()}))
	}
	for _, t := range types {
		off, _ := region.Extent(t)
		rc.recOffs = append(rc.recOffs, off)
	}
	chunk := bk.ChunkSize()
	payloads := make(map[uint8][]byte, len(types))
	phases := make(map[uint8]int64, len(types))
	plan := store.Plan{Generation: gen, Config: toStoreConfig(cfg)}
	for _, t := range types {
		off, _ := region.Extent(t)
		phase := (off + info.RecordHeaderSize) % chunk
		rc.primary.mark()
		rec, checks, err := e.readRecord(region, rc.primary, t, phase, chunk)
		if err != nil {
			for _, p := range payloads {
				putPayload(p)
			}
			// Timed from the failing read (a CRC error: from the last
			// read of the record), or an earlier one slower than the
			// threshold.
			return ended(e.interrupted(ctx, rc, nil, &anomaly{err: err, when: rc.primary.failedAt()}))
		}
		ds, checks := e.chunkDigests(bk, active, t, rec.Payload, checks, phase, chunk)
		payloads[uint8(t)] = rec.Payload
		phases[uint8(t)] = phase
		plan.Types = append(plan.Types, store.TypePlan{Type: uint8(t), Phase: uint32(phase), Size: int64(len(rec.Payload)), Seq: rec.Seq, Chunks: ds, Checks: checks})
		work.counted.BytesRead += int64(len(rec.Payload))
	}
	if len(e.rewrite) > 0 {
		plan.Rewrite = map[uint8][]int{}
		for t, idx := range e.rewrite {
			plan.Rewrite[uint8(t)] = slices.Clone(idx)
		}
	}
	p := &Prepared{choice: choice, active: active, prevGen: prevGen, cfg: cfg, next: next,
		upgrade: committed.UpgradeChoice, rep: rep, hdr: hdr, lastProbe: rc.lastProbe, recOffs: rc.recOffs,
		plan: plan, payloads: payloads, phases: phases, chunk: chunk,
		work: work.done(), haveStats: work.haveStats}
	return p, RoundReport{}, nil
}
