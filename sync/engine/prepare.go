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
// number of times, by several engines at once. It holds what it read
// until it is dropped: the changed chunks of the types read through the
// information region's change tables, the whole payloads of the others.
type Prepared struct {
	choice          UpgradeChoice
	activeChip      int
	baseGeneration  uint64 // the backup's committed generation the round started from
	config          Config
	groupNext       uint16 // the group's first type (store.State.GroupNext)
	committedChoice uint8  // the committed upgrade choice
	report          RoundReport
	header          info.ImageHeader
	lastProbe       time.Time
	recordOffsets   []int64
	collection
	// work is the first half's flash work: statistics of both chips when
	// they keep them (haveStats), else what the engine counted.
	work      hal.Stats
	haveStats bool
}

// Generation returns the generation the prepared round will commit.
func (p *Prepared) Generation() uint64 { return p.report.Generation }

// Types returns the group of types the prepared round syncs.
func (p *Prepared) Types() TypeList { return slices.Clone(p.report.Types) }

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
	if err := e.readOnly("prepare"); err != nil {
		return nil, RoundReport{}, err
	}
	e.lockRound()
	defer e.unlockRound()
	p, rep, err := e.prepare(ctx, NoChoice)
	if p == nil {
		e.countRound()
	}
	return p, rep, err
}

// prepare is Prepare with the round lock (roundMu) held (see Prepare);
// choice is the upgrade choice of an upgrade round, NoChoice for a
// scheduled one.
func (e *Engine) prepare(ctx context.Context, choice UpgradeChoice) (*Prepared, RoundReport, error) {
	e.mu.Lock()
	active := int(e.role.Active)
	cfg := e.config.Clone()
	next := e.newestState.GroupNext
	e.mu.Unlock()
	rep := RoundReport{Started: e.now(), began: e.clock.Now()}
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
	if err := e.usableConfig(); err != nil {
		// A round would commit a generation syncing nothing (no type) or
		// the wrong group: refused before anything is written.
		return ended(e.finish(&rep, work, err))
	}
	if choice == NoChoice && e.restoreMarked() {
		// Round completes it (completeRestore); a bare Prepare does not.
		rep.Outcome = OutcomeUpgradePending
		return ended(e.finish(&rep, work, fmt.Errorf("%w: Round completes it", ErrRestoreIncomplete)))
	}
	if err := e.retryRestore(); err != nil {
		// The active chip's region is not the last committed generation:
		// syncing it would commit a half-restored region over it.
		rep.Outcome = OutcomeRestorePending
		return ended(e.finish(&rep, work, err))
	}
	rs := e.newRoundState(&rep, primary, bk, cfg)
	prevGen := bk.StateRef().Generation
	// Probe the primary first.
	hdr, err := e.probe(rs, nil)
	if err != nil {
		return ended(e.interrupted(ctx, rs, nil, err))
	}
	if hdr, err = e.imageID(active, rs.primary, hdr); err != nil {
		return ended(e.finish(&rep, work, err))
	}
	rs.header = hdr
	e.mu.Lock()
	e.primaryVersion = hdr.Version
	e.mu.Unlock()
	committed := bk.StateRef()
	if e.upgradeDetected(hdr, choice) {
		rep.Outcome = OutcomeUpgradePending
		return ended(e.finish(&rep, work, ErrUpgradePending))
	}
	rep.Types = roundTypes(cfg, next, choice)
	for _, t := range append(e.repairTypes(cfg), e.rehashTypes(cfg)...) {
		if !slices.Contains(rep.Types, t) {
			rep.Types = append(rep.Types, t) // damage to repair: the type's round is now
		}
	}
	rep.Generation = max(e.storeGen(0), e.storeGen(1)) + 1
	c, err := e.collect(rs, active, rep.Types, rep.Generation, work)
	if err != nil {
		return ended(e.interrupted(ctx, rs, nil, err))
	}
	p := &Prepared{choice: choice, activeChip: active, baseGeneration: prevGen, config: cfg, groupNext: next,
		committedChoice: committed.UpgradeChoice, report: rep, header: hdr, lastProbe: rs.lastProbe, recordOffsets: rs.recordOffsets,
		collection: c, work: work.done(), haveStats: work.haveStats}
	return p, RoundReport{}, nil
}

// upgradeDetected reports whether the active chip runs an image version
// other than the one committed from that chip, when no upgrade choice is
// being applied (the upgrade choice of the method): the round then waits
// for Upgrade. The first time, it notes the pending upgrade in the event
// log.
//
// Only an image of the same chip counts (committedFromActive): a
// generation in chip i's store was taken from the other chip (rounds
// write the backup's store), so the version the active chip's image is
// held to is that of the newest generation in the backup's store. The two
// chips of a board may carry different images (the backup an older one):
// when no generation was ever taken from the active chip (the first
// failover to chip B), its image did not change as far as anything
// committed says, and the first generation taken from it records it.
// Comparing across chips made every round after a failover to a different
// image wait for an upgrade choice; comparing with nothing after a
// failback let chip A's image, changed since the failover, be synced
// without a choice.
func (e *Engine) upgradeDetected(hdr info.ImageHeader, choice UpgradeChoice) bool {
	held := e.committedFromActive()
	if held == nil || held.ImageVersion == "" || hdr.Version == held.ImageVersion || choice != NoChoice {
		return false
	}
	e.mu.Lock()
	was := e.upgradePending
	e.upgradePending = true
	e.mu.Unlock()
	if !was {
		e.event(EventUpgrade, held.Generation, fmt.Sprintf("primary image %s, generation %d was taken from %s: choose keep-upgraded or restore-defaults", hdr.Version, held.Generation, held.ImageVersion))
	}
	return true
}

// roundTypes returns the types a round syncs: the group of a scheduled
// round (see group), every chosen type for an upgrade round.
func roundTypes(cfg Config, next uint16, choice UpgradeChoice) []info.Type {
	if choice != NoChoice {
		return slices.Clone(cfg.Types)
	}
	return group(cfg, next)
}

// collection is what the collect step read: the payloads of the round's
// types, where each is cut into chunks, and the plan of the round made
// from them.
type collection struct {
	plan      store.Plan
	payloads  map[uint8][]byte         // types read whole
	sparse    map[uint8]*sparsePayload // types read through their change table
	phases    map[uint8]int64          // by type: the chunk offset of the payload's first byte
	chunkSize int64
}

// collect is the collect step of the method: it reads the round's types
// from the primary's information region (each record's payload CRC
// checked, see readRecord), hashes their chunks against the backup's
// committed generation (see chunkDigests) and plans generation gen with
// them and with the chunks a scrub found damaged. It notes the records'
// offsets in rs for later probes. An error is an anomaly of the primary
// (a read that failed, read wrong, or answered slower than the threshold,
// even correctly), timed as timedPrimary.failedAt says; no payload buffer
// is held then.
func (e *Engine) collect(rs *roundState, active int, types []info.Type, gen uint64, work *roundWork) (collection, error) {
	rs.primary.mark()
	// Each group of reads below is an anomaly if a read failed, read
	// wrong or answered slower than the threshold (timedPrimary.slow): a
	// slow correct answer must not be forgotten by the next mark.
	region, err := info.OpenRegion(rs.primary, e.opts.Layout.InfoOff, e.opts.Layout.InfoSize)
	if err == nil {
		err = rs.primary.slow()
	}
	if err != nil {
		return collection{}, &anomaly{err: err, began: rs.primary.failedAt(), recheck: recheck{region: true}}
	}
	for _, t := range types {
		off, _ := region.Extent(t)
		rs.recordOffsets = append(rs.recordOffsets, off)
	}
	// A region with change tables needs no copy of the last payloads to
	// find what changed: keep none (memory proportional to the change).
	_, _, e.noCache = region.ChangeTable(info.Power)
	chunk := rs.backup.ChunkSize()
	c := collection{
		plan:      store.Plan{Generation: gen, Config: toStoreConfig(rs.config)},
		payloads:  make(map[uint8][]byte, len(types)),
		sparse:    make(map[uint8]*sparsePayload, len(types)),
		phases:    make(map[uint8]int64, len(types)),
		chunkSize: chunk,
	}
	for _, t := range types {
		off, _ := region.Extent(t)
		phase := (off + info.RecordHeaderSize) % chunk
		rs.primary.mark()
		tr, used, err := e.readChanged(rs, region, t, phase, chunk)
		if err == nil {
			if err = rs.primary.slow(); err != nil && used {
				putPayload(tr.sparse.buf)
			}
		}
		if err != nil {
			c.release(false)
			return collection{}, &anomaly{err: err, began: rs.primary.failedAt(), recheck: recheck{region: true, record: t}}
		}
		if used {
			e.dropCached(t)
			c.sparse[uint8(t)] = tr.sparse
			c.phases[uint8(t)] = phase
			c.plan.Types = append(c.plan.Types, tr.plan)
			work.counted.BytesRead += tr.read
			continue
		}
		rs.report.ReadWhole = append(rs.report.ReadWhole, t)
		if _, _, ok := region.ChangeTable(t); ok && rs.backup.StateRef().Generation > 0 {
			e.mu.Lock()
			e.counters.TableFallbacks++
			e.mu.Unlock()
		}
		rs.primary.mark()
		rec, checks, err := e.readRecord(region, rs.primary, t, phase, chunk)
		if err == nil {
			if err = rs.primary.slow(); err != nil {
				putPayload(rec.Payload)
			}
		}
		if err != nil {
			c.release(false)
			// Timed from the failing read (a CRC error: from the last
			// read of the record), or an earlier one slower than the
			// threshold.
			return collection{}, &anomaly{err: err, began: rs.primary.failedAt(), recheck: recheck{region: true, record: t}}
		}
		ds, checks := e.chunkDigests(rs.backup, active, t, rec.Payload, checks, phase, chunk)
		c.payloads[uint8(t)] = rec.Payload
		c.phases[uint8(t)] = phase
		c.plan.Types = append(c.plan.Types, store.TypePlan{Type: uint8(t), Phase: uint32(phase), Size: int64(len(rec.Payload)), Seq: rec.Seq, Chunks: ds, Checks: checks})
		work.counted.BytesRead += int64(len(rec.Payload))
	}
	if len(e.rewriteChunks) > 0 {
		c.plan.Rewrite = map[uint8][]int{}
		for t, idx := range e.rewriteChunks {
			c.plan.Rewrite[uint8(t)] = slices.Clone(idx)
		}
	}
	return c, nil
}
