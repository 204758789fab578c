package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"sync"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// Round outcomes.
const (
	OutcomeCommitted      = "committed"       // a generation with changed data was committed
	OutcomeNothingChanged = "nothing-changed" // committed with no data written (commit record only)
	OutcomeInterrupted    = "interrupted"     // anomaly, primary answered within the threshold: purged, retried later
	OutcomeFailover       = "failover"        // anomaly, primary did not answer within the threshold: failed over, purged
	OutcomeUpgradePending = "upgrade-pending" // the primary's image was upgraded: waiting for Upgrade
	OutcomeError          = "error"           // a flash error ended the round (see Error)
)

// ErrUpgradePending: the primary runs a different image version than the
// one committed; call Upgrade with the user's choice.
var ErrUpgradePending = errors.New("image upgrade pending: choose keep-upgraded or restore-defaults")

// RoundReport says what one round did.
type RoundReport struct {
	Generation    uint64   `json:"generation"` // committed (or attempted) generation
	Outcome       string   `json:"outcome"`
	Types         TypeList `json:"types"`          // the group this round synced
	ChangedTypes  TypeList `json:"changed_types"`  // types whose data changed
	ChangedChunks int      `json:"changed_chunks"` // chunks written
	// Flash work on both chips (from hal.Stats when the devices keep them,
	// else counted by the engine).
	BytesRead       int64 `json:"bytes_read"`
	BytesWritten    int64 `json:"bytes_written"`
	Erases          int64 `json:"erases"`
	PagesProgrammed int64 `json:"pages_programmed"`
	// DataErases and DataPages are the part of the work spent on chunk
	// data (the rest is metadata: journal records, and an erase of the
	// journal block a restarted engine continues in).
	DataErases   int64         `json:"data_erases"`
	DataPages    int64         `json:"data_pages"`
	Started      time.Time     `json:"started"`
	Duration     time.Duration `json:"duration"`      // clock time
	WaitResponse time.Duration `json:"wait_response"` // after an anomaly: how long the backup waited for the primary
	Anomaly      string        `json:"anomaly,omitempty"`
	PurgedBlocks int           `json:"purged_blocks,omitempty"`
	Error        string        `json:"error,omitempty"`
}

// anomaly is an error from the primary that interrupts a round.
type anomaly struct {
	err  error
	when time.Time // when the failing probe or read started
}

func (a *anomaly) Error() string { return "primary anomaly: " + a.err.Error() }
func (a *anomaly) Unwrap() error { return a.err }

var (
	errImageChanged = errors.New("image header changed")
	errSlow         = errors.New("response time above the threshold")
)

// roundCtx is the state of one round.
type roundCtx struct {
	rep       *RoundReport
	primary   *timedPrimary
	bk        *store.Store
	cfg       Config
	hdr       info.ImageHeader
	lastProbe time.Time
	recOffs   []int64 // chip offsets of the round's record headers
}

// timedPrimary is the primary as a round reads it: it notes when each read
// (a request the primary must answer) started, and the start of the first
// read since mark that took longer than the threshold, so that an
// anomaly's wait-response is timed from the first request the primary did
// not answer in time (a failed one, or one slower than the threshold), not
// from the start of a probe or record read whose earlier requests were
// answered in time.
type timedPrimary struct {
	hal.Flash
	clock     hal.Clock
	threshold time.Duration
	start     time.Time     // of the last read
	slow      time.Time     // start of the first read slower than threshold since mark
	slowest   time.Duration // the longest read since mark
}

func (t *timedPrimary) timed(read func() (int, error)) (int, error) {
	t.start = t.clock.Now()
	n, err := read()
	d := t.clock.Now().Sub(t.start)
	t.slowest = max(t.slowest, d)
	if t.slow.IsZero() && d > t.threshold {
		t.slow = t.start
	}
	return n, err
}

func (t *timedPrimary) ReadAt(p []byte, off int64) (int, error) {
	return t.timed(func() (int, error) { return t.Flash.ReadAt(p, off) })
}

func (t *timedPrimary) ReadAtPieces(p []byte, off int64, piece func(int)) (int, error) {
	return t.timed(func() (int, error) { return hal.ReadAtPieces(t.Flash, p, off, piece) })
}

// mark starts a new group of requests (a probe, a record read).
func (t *timedPrimary) mark() { t.slow, t.slowest = time.Time{}, 0 }

// failedAt returns when the anomaly of a group that ended with the last
// read began: the first read slower than the threshold, if any, else the
// last read.
func (t *timedPrimary) failedAt() time.Time {
	if !t.slow.IsZero() {
		return t.slow
	}
	return t.start
}

// Round runs one sync round now (steps 1, 3, 4 and 6 of the method): probe
// the primary; collect the round's group of chosen types from its
// information region; write the chunks whose digests changed since the last
// committed generation (intent first, then data, then the commit record),
// probing the primary between writes. On an anomaly the round is
// interrupted and handled as the method says (see RoundReport.Outcome). The
// error is nil for committed, nothing-changed, interrupted and failover
// rounds; it is ErrUpgradePending, a context error or a flash error
// otherwise.
func (e *Engine) Round(ctx context.Context) (RoundReport, error) {
	e.lockRound()
	defer e.unlockRound()
	return e.round(ctx, NoChoice)
}

// lockRound takes the locks a round holds: the engine's op lock, then
// Options.PrimaryLock. unlockRound releases them and wakes Run, whose
// schedule the round may have moved.
func (e *Engine) lockRound() {
	e.op.Lock()
	if l := e.opts.PrimaryLock; l != nil {
		l.Lock()
	}
}

func (e *Engine) unlockRound() {
	if l := e.opts.PrimaryLock; l != nil {
		l.Unlock()
	}
	e.op.Unlock()
	e.kick()
}

// drainWake drops a pending wake-up (see kick).
func (e *Engine) drainWake() {
	select {
	case <-e.wake:
	default:
	}
}

// kick wakes Run to read the schedule again (a round ran, or the
// configuration changed).
func (e *Engine) kick() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func statsOf(fs ...hal.Flash) (hal.Stats, bool) {
	var sum hal.Stats
	for _, f := range fs {
		s, ok := hal.StatsOf(f)
		if !ok {
			return hal.Stats{}, false
		}
		sum = sum.Add(s)
	}
	return sum, true
}

func (e *Engine) round(ctx context.Context, choice UpgradeChoice) (RoundReport, error) {
	e.countRound()
	p, rep, err := e.prepare(ctx, choice)
	if p == nil {
		return rep, err
	}
	return e.apply(ctx, p, true)
}

// countRound counts a round (Counters.Rounds): Round counts each, and so
// does a Prepare that ends the round or an Apply.
func (e *Engine) countRound() {
	e.mu.Lock()
	e.counters.Rounds++
	e.mu.Unlock()
}

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

// ErrStale is returned by Apply when the engine is no longer in the state
// the round was prepared from.
var ErrStale = errors.New("prepared round is stale")

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

// roundWork measures a round's flash work (see RoundReport.BytesRead).
type roundWork struct {
	chips     [2]hal.Flash
	before    hal.Stats
	haveStats bool
	counted   hal.Stats // counted by the engine, for chips without statistics
	carried   hal.Stats // work of a first half done before this measure began
}

func (e *Engine) newWork(primary, backup hal.Flash) *roundWork {
	w := &roundWork{chips: [2]hal.Flash{primary, backup}}
	w.before, w.haveStats = statsOf(primary, backup)
	return w
}

// done returns the work so far.
func (w *roundWork) done() hal.Stats {
	if after, ok := statsOf(w.chips[0], w.chips[1]); ok && w.haveStats {
		return after.Sub(w.before).Add(w.carried)
	}
	return w.counted.Add(w.carried)
}

// finish ends a round: duration, flash work, outcome, error and event.
func (e *Engine) finish(rep *RoundReport, w *roundWork, err error) (RoundReport, error) {
	rep.Duration = e.clock.Now().Sub(rep.Started)
	d := w.done()
	rep.BytesRead, rep.BytesWritten, rep.Erases, rep.PagesProgrammed = d.BytesRead, d.BytesProgrammed, d.Erases, d.PagesProgrammed
	if err != nil && rep.Outcome == "" {
		rep.Outcome = OutcomeError
	}
	if err != nil {
		rep.Error = err.Error()
		if !errors.Is(err, ErrUpgradePending) {
			e.event(EventError, rep.Generation, err.Error())
			e.setErr(err)
		}
	} else {
		e.setErr(nil)
	}
	r := *rep
	e.mu.Lock()
	e.lastRep = &r
	e.mu.Unlock()
	return *rep, err
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

// chunkDigests returns the chunk digests and checks of t's new payload.
// Only chunks that changed since the committed generation are hashed with
// SHA-256: a chunk equal byte for byte to the payload kept from the last
// round (same source chip, same generation), or whose fast check
// (store.ChunkCheck) equals the committed chunk's, takes the committed
// digest. checks, if not nil, are the chunks' checks already computed
// (readRecord computes them to check the payload CRC); they are returned.
func (e *Engine) chunkDigests(bk *store.Store, active int, t info.Type, p []byte, checks []uint64, phase, chunk int64) ([]store.Digest, []uint64) {
	st := bk.StateRef()
	ts, have := st.Type(uint8(t))
	if have && int64(ts.Phase) != phase {
		have = false
	}
	old, cached := e.cache[t]
	cached = cached && have && e.cacheChip == active && e.cacheGen == st.Generation && ts.Size == int64(len(old))
	size := int64(len(p))
	n := store.ChunkCount(size, phase, chunk)
	ds := make([]store.Digest, n)
	given := checks != nil
	if !given {
		checks = make([]uint64, n)
	}
	for i := range n {
		lo, hi := store.ChunkBounds(size, phase, chunk, i)
		if have && i < len(ts.Chunks) {
			olo, ohi := store.ChunkBounds(ts.Size, phase, chunk, i)
			if olo == lo && ohi == hi {
				c := ts.Chunks[i]
				if !given && cached && bytes.Equal(p[lo:hi], old[lo:hi]) {
					ds[i], checks[i] = c.Digest, c.Check
					continue
				}
				if !given {
					checks[i] = store.ChunkCheck(p[lo:hi])
				}
				if c.Check != 0 && checks[i] == c.Check {
					ds[i] = c.Digest
					continue
				}
				ds[i] = store.ChunkDigest(p[lo:hi])
				continue
			}
		}
		if !given {
			checks[i] = store.ChunkCheck(p[lo:hi])
		}
		ds[i] = store.ChunkDigest(p[lo:hi])
	}
	return ds, checks
}

// remember keeps the payloads a round committed as generation gen, to
// compare the next round's against (see chunkDigests). Entries of other
// types stay valid if the cache was valid for prev, the generation the
// round started from.
func (e *Engine) remember(active int, prev, gen uint64, payloads map[uint8][]byte) {
	if e.cache == nil || e.cacheChip != active || e.cacheGen != prev {
		for _, p := range e.cache {
			putPayload(p)
		}
		e.cache = map[info.Type][]byte{}
	}
	for t, p := range payloads {
		if old, ok := e.cache[info.Type(t)]; ok {
			putPayload(old)
		}
		e.cache[info.Type(t)] = p
	}
	e.cacheChip, e.cacheGen = active, gen
}

func (e *Engine) storeGen(i int) uint64 {
	if e.stores[i] == nil {
		return 0
	}
	return e.stores[i].StateRef().Generation
}

// readRecord reads t's record and re-reads its header to make sure a CMC
// service did not rewrite it meanwhile (retrying a few times if so). It
// also returns the checks (store.ChunkCheck) of the payload's chunks at
// phase, from which it checked the payload CRC (nil for the no-crc-check
// mutant).
func (e *Engine) readRecord(region *info.Region, primary hal.Flash, t info.Type, phase, chunk int64) (info.Record, []uint64, error) {
	off, _ := region.Extent(t)
	hb := make([]byte, info.RecordHeaderSize)
	if e.opts.Mutant == NoCRCCheck { // MUTANT: trust the primary's record without its payload CRC
		rec, err := readRecordUnchecked(primary, off, hb, t)
		return rec, nil, err
	}
	for range 3 {
		rec, checks, err := readRecordInto(region, primary, t, hb, phase, chunk)
		if err != nil {
			return rec, nil, err
		}
		if _, err := primary.ReadAt(hb, off); err != nil {
			putPayload(rec.Payload)
			return info.Record{}, nil, err
		}
		h, err := info.DecodeRecordHeader(hb)
		if err == nil && h.Seq == rec.Seq && h.PayloadCRC == rec.CRC {
			return rec, checks, nil
		}
		putPayload(rec.Payload)
	}
	return info.Record{}, nil, fmt.Errorf("%v record keeps changing while read", t)
}

// payloadCRC returns the CRC-32C of a payload of size bytes cut at phase
// into chunks whose checks (store.ChunkCheck) are given: the high 32 bits
// of a check are the chunk's CRC-32C, and combining them in order gives
// the payload's, exactly.
func payloadCRC(checks []uint64, size, phase, chunk int64) uint32 {
	var crc uint32
	full := shiftTableFor(chunk)
	for i, c := range checks {
		lo, hi := store.ChunkBounds(size, phase, chunk, i)
		if hi-lo == chunk {
			crc = full.combine(crc, uint32(c>>32))
		} else {
			crc = crcCombine(crc, uint32(c>>32), crcShift(hi-lo))
		}
	}
	return crc
}

// readRecordInto is info.Region.Read with the payload in a pooled buffer
// (see getPayload): the same reads in the same order (the 32-byte header,
// then the payload) and the same checks (header magic, version, type and
// CRC, payload length within the extent, payload CRC). The payload CRC is
// combined from the checks of its chunks at phase (see payloadCRC), which
// it returns. On error no buffer is held. hb is scratch for the header.
func readRecordInto(region *info.Region, primary hal.Flash, t info.Type, hb []byte, phase, chunk int64) (info.Record, []uint64, error) {
	if !t.Valid() {
		return info.Record{}, nil, fmt.Errorf("unknown information type %d (want 1..%d)", uint8(t), info.NumTypes)
	}
	off, capacity := region.Extent(t)
	if _, err := primary.ReadAt(hb, off); err != nil {
		return info.Record{}, nil, fmt.Errorf("read %v record: %w", t, err)
	}
	h, err := info.DecodeRecordHeader(hb)
	if err != nil {
		return info.Record{}, nil, fmt.Errorf("%v record at %#x: %w", t, off, err)
	}
	if h.Type != t {
		return info.Record{}, nil, fmt.Errorf("%v record at %#x: %w: header says type %v", t, off, info.ErrCorrupt, h.Type)
	}
	if int64(h.PayloadLen) > capacity-info.RecordHeaderSize {
		return info.Record{}, nil, fmt.Errorf("%v record at %#x: %w: payload length %d exceeds the extent's %d", t, off, info.ErrCorrupt, h.PayloadLen, capacity-info.RecordHeaderSize)
	}
	p := getPayload(int(h.PayloadLen))
	size := int64(len(p))
	checks := make([]uint64, store.ChunkCount(size, phase, chunk))
	// Each chunk's check is computed as soon as the device has filled it,
	// while it is still in the CPU's cache (hal.PieceReader).
	next := 0
	sum := func(filled int) {
		for ; next < len(checks); next++ {
			lo, hi := store.ChunkBounds(size, phase, chunk, next)
			if hi > int64(filled) {
				return
			}
			checks[next] = store.ChunkCheck(p[lo:hi])
		}
	}
	if _, err := hal.ReadAtPieces(primary, p, off+info.RecordHeaderSize, sum); err != nil {
		putPayload(p)
		return info.Record{}, nil, fmt.Errorf("read %v record: %w", t, err)
	}
	sum(len(p))
	if c := payloadCRC(checks, size, phase, chunk); c != h.PayloadCRC {
		putPayload(p)
		return info.Record{}, nil, fmt.Errorf("%v record at %#x: %w: payload crc %#08x, header says %#08x", t, off, info.ErrCorrupt, c, h.PayloadCRC)
	}
	return info.Record{Type: t, Seq: h.Seq, Payload: p, CRC: h.PayloadCRC}, checks, nil
}

// payloadPools recycle payload buffers between rounds (and between
// engines: a campaign opens thousands), by power-of-two capacity class.
// A round takes a buffer per record it reads and gives it back when the
// round fails or when a later round replaces it in the engine's cache.
// Reading the 8 MiB standard region into fresh slices spent more time
// zeroing them than reading them.
var payloadPools [40]sync.Pool

func payloadClass(n int) int { return bits.Len(uint(max(n, 1) - 1)) }

// getPayload returns a buffer of length n; its contents are unspecified.
func getPayload(n int) []byte {
	c := payloadClass(n)
	if c >= len(payloadPools) {
		return make([]byte, n)
	}
	if v, ok := payloadPools[c].Get().(*[]byte); ok {
		return (*v)[:n]
	}
	return make([]byte, n, 1<<c)
}

// putPayload gives b back to its pool; the caller must not use b again.
func putPayload(b []byte) {
	c := payloadClass(cap(b))
	if b == nil || cap(b) != 1<<c || c >= len(payloadPools) {
		return
	}
	payloadPools[c].Put(&b)
}

// Release gives the engine's buffers (the payloads of the last committed
// round, the stores' in-memory maps: see store.Store.Release) back for
// reuse by engines opened later, as a fault campaign opens thousands. The
// engine must not be used afterwards. Release is optional.
func (e *Engine) Release() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range e.cache {
		putPayload(p)
	}
	e.cache = nil
	e.snap.Types = nil // shares the stores' chunk maps
	for i, s := range e.stores {
		if s != nil {
			s.Release()
			e.stores[i] = nil
		}
	}
}

// readRecordUnchecked is the no-crc-check mutant's record read: the
// payload's CRC is not checked.
func readRecordUnchecked(primary hal.Flash, off int64, hb []byte, t info.Type) (info.Record, error) {
	if _, err := primary.ReadAt(hb, off); err != nil {
		return info.Record{}, err
	}
	h, err := info.DecodeRecordHeader(hb)
	if err != nil {
		return info.Record{}, err
	}
	p := make([]byte, h.PayloadLen)
	if _, err := primary.ReadAt(p, off+info.RecordHeaderSize); err != nil {
		return info.Record{}, err
	}
	return info.Record{Type: t, Seq: h.Seq, Payload: p, CRC: h.PayloadCRC}, nil
}

// probe reads the primary's image header: an error, a header different
// from want (if given) or a response time above the threshold is an
// anomaly. With want it also reads the round's record headers. The
// anomaly is timed from the first request the primary did not answer in
// time: the first read slower than the threshold, else the one that failed
// (the requests before it were answered).
func (e *Engine) probe(rc *roundCtx, want *info.ImageHeader) (info.ImageHeader, error) {
	rc.primary.mark()
	h, err := info.ReadImageHeader(rc.primary)
	if err == nil && want != nil && h != *want {
		err = fmt.Errorf("%w: version %q, was %q", errImageChanged, h.Version, want.Version)
	}
	if err == nil && want != nil {
		// The records of the round's types: a header that no longer
		// decodes is primary corruption.
		hb := make([]byte, info.RecordHeaderSize)
		for _, off := range rc.recOffs {
			if _, err = rc.primary.ReadAt(hb, off); err != nil {
				break
			}
			if _, err = info.DecodeRecordHeader(hb); err != nil {
				err = fmt.Errorf("record header at %#x: %w", off, err)
				break
			}
		}
	}
	rc.lastProbe = e.clock.Now()
	// The response time is that of each read: each read is one request
	// the primary must answer.
	if err == nil && !rc.primary.slow.IsZero() {
		err = fmt.Errorf("%w: %v", errSlow, rc.primary.slowest)
	}
	if err != nil {
		return h, &anomaly{err: err, when: rc.primary.failedAt()}
	}
	return h, nil
}

// interrupted handles an anomaly (step 4 of the method): interrupt, measure
// the wait-response time, fail over if it exceeds the threshold, purge,
// confirm, reinit.
func (e *Engine) interrupted(ctx context.Context, rc *roundCtx, r *store.Round, err error) (RoundReport, error) {
	rep := rc.rep
	var an *anomaly
	if !errors.As(err, &an) {
		an = &anomaly{err: err, when: e.clock.Now()}
	}
	rep.Anomaly = an.err.Error()
	e.event(EventAnomaly, rep.Generation, fmt.Sprintf("%s: %v", rc.primary.Geometry().Name, an.err))
	if r != nil {
		r.Abandon()
		e.event(EventInterrupt, rep.Generation, fmt.Sprintf("round interrupted with %d of %d chunks left", r.Remaining(), len(r.Writes())))
	} else {
		e.event(EventInterrupt, rep.Generation, "round interrupted before writing")
	}
	e.mu.Lock()
	e.counters.Interrupts++
	e.mu.Unlock()
	// Wait for the primary to answer healthily, up to the threshold.
	wait := e.clock.Now().Sub(an.when)
	healthy, canceled := false, false
	for wait <= rc.cfg.Threshold {
		if err := e.clock.Sleep(ctx, e.opts.ProbeRetry); err != nil {
			canceled = true // stopped waiting: no verdict, no failover
			break
		}
		_, perr := e.probe(rc, nil)
		wait = e.clock.Now().Sub(an.when)
		if perr == nil {
			healthy = true
			break
		}
	}
	rep.WaitResponse = wait
	failover := !canceled && (!healthy || wait > rc.cfg.Threshold)
	if e.opts.Mutant == ThresholdIgnored { // MUTANT: fail over on any anomaly
		failover = true
	}
	var ferr error
	if failover {
		ferr = e.failover(rc, wait)
		rep.Outcome = OutcomeFailover
	} else {
		rep.Outcome = OutcomeInterrupted
	}
	// Purge and reinit (the purge may be of nothing if no intent was written).
	if in := rc.bk.Interrupted(); in != nil {
		rep.PurgedBlocks = len(in.Blocks)
		if err := e.purgeAndReinit(rc.bk, in); err != nil {
			ferr = errors.Join(ferr, err)
		}
	}
	// Nothing written: nothing to purge, so no reinit either (a staged
	// configuration stays; reinit follows a confirmed purge).
	if failover && ferr == nil {
		ferr = e.restoreActive()
	}
	now := e.clock.Now()
	e.mu.Lock()
	if !failover && e.cfg.RetryAtOnce {
		e.nextSync = now
	} else {
		e.nextSync = now.Add(e.cfg.Interval)
	}
	e.mu.Unlock()
	rep.Duration = now.Sub(rep.Started)
	if ferr != nil {
		rep.Error = ferr.Error()
		e.setErr(ferr)
	} else {
		e.setErr(fmt.Errorf("round interrupted: %v", an.err))
	}
	r2 := *rep
	e.mu.Lock()
	e.lastRep = &r2
	e.mu.Unlock()
	return *rep, ferr
}

// stopped ends a round whose context is done: the round's blocks are
// purged (and the configuration reinitialised) as after an interruption,
// without an anomaly or a failover.
func (e *Engine) stopped(rc *roundCtx, r *store.Round, cause error) (RoundReport, error) {
	r.Abandon()
	e.event(EventInterrupt, rc.rep.Generation, "round stopped: "+cause.Error())
	rc.rep.Outcome = OutcomeInterrupted
	if in := rc.bk.Interrupted(); in != nil {
		rc.rep.PurgedBlocks = len(in.Blocks)
		if err := e.purgeAndReinit(rc.bk, in); err != nil {
			cause = errors.Join(cause, err)
		}
	}
	rc.rep.Duration = e.clock.Now().Sub(rc.rep.Started)
	rc.rep.Error = cause.Error()
	rep := *rc.rep
	e.mu.Lock()
	e.lastRep = &rep
	e.mu.Unlock()
	return rep, cause
}

// failover makes the backup chip the active one, durably (a role record in
// its store, which later commits copy to the other chip).
func (e *Engine) failover(rc *roundCtx, wait time.Duration) error {
	old := e.role
	r := store.Role{Epoch: old.Epoch + 1, Active: 1 - old.Active, RestorePending: true}
	err := rc.bk.SetRole(r)
	if err != nil && !errors.Is(err, hal.ErrPowerLoss) {
		// One failed erase or program of the backup's journal must not
		// keep the engine on a primary that stopped answering: a failed
		// program left the journal's tail in the next block, and the
		// journal erases a block again before it writes there. Once more.
		e.event(EventError, rc.rep.Generation, "failover: "+err.Error()+" (retrying)")
		err = rc.bk.SetRole(r)
	}
	if err != nil {
		e.event(EventError, rc.rep.Generation, "failover: "+err.Error())
		return fmt.Errorf("failover: %w", err)
	}
	e.mu.Lock()
	e.role = r
	e.counters.Failovers++
	e.mu.Unlock()
	e.event(EventFailover, rc.rep.Generation, fmt.Sprintf("wait-response %v exceeds threshold %v: %s is now active", wait, rc.cfg.Threshold, e.chips[r.Active].Geometry().Name))
	return nil
}

// scribblePrimary is the primary-written mutant: it clears one bit of the
// primary's image body.
func (e *Engine) scribblePrimary(primary hal.Flash) {
	l := e.opts.Layout
	off := l.ImageOff + info.ImageHeaderSize + (l.ImageSize-info.ImageHeaderSize)/2
	b := make([]byte, 1)
	for ; off < l.ImageOff+l.ImageSize; off++ {
		if _, err := primary.ReadAt(b, off); err != nil {
			return
		}
		if b[0] != 0 {
			b[0] &= b[0] - 1
			_, _ = primary.WriteAt(b, off)
			return
		}
	}
}

// Upgrade applies the user's choice after an image upgrade (step 5 of the
// method) and syncs at once; see UpgradeRound, which also returns the
// round's report.
func (e *Engine) Upgrade(choice UpgradeChoice) error {
	_, err := e.UpgradeRound(context.Background(), choice)
	return err
}

// UpgradeRound applies the user's choice after an image upgrade and syncs at once: KeepUpgraded takes the upgraded image's
// information as the new baseline; RestoreDefaults first writes each
// chosen type's preset default contents to the primary's information
// region. The choice and the new image version are committed with the
// generation.
func (e *Engine) UpgradeRound(ctx context.Context, choice UpgradeChoice) (RoundReport, error) {
	if choice != KeepUpgraded && choice != RestoreDefaults {
		return RoundReport{}, fmt.Errorf("upgrade: choose keep-upgraded or restore-defaults, not %v", choice)
	}
	e.lockRound()
	defer e.unlockRound()
	e.mu.Lock()
	primary := e.chips[e.role.Active]
	types := slices.Clone(e.cfg.Types)
	e.mu.Unlock()
	if choice == RestoreDefaults {
		region, err := info.OpenRegion(primary, e.opts.Layout.InfoOff, e.opts.Layout.InfoSize)
		if err != nil {
			return RoundReport{}, fmt.Errorf("upgrade: %w", err)
		}
		for _, t := range types {
			if err := region.Write(t, info.Default(t)); err != nil {
				return RoundReport{}, fmt.Errorf("upgrade: restore %v defaults: %w", t, err)
			}
		}
	}
	e.event(EventUpgradeChoice, e.snapGen(), fmt.Sprintf("%v for types %s", choice, info.FormatList(types)))
	return e.round(ctx, choice)
}

// Run runs rounds on the schedule until ctx is done: it waits (on the
// engine's clock) until NextSync, runs a round, hands its report to
// Options.OnRound, and repeats. A configuration change (SetConfig) or a
// round run meanwhile (Round, Upgrade, "sync now") wakes it to read the
// schedule again, so a shorter interval takes effect at once. Interrupted
// rounds are retried at once when Config.RetryAtOnce is set, else at the
// next scheduled time. A round that fails with a flash error (or waits for
// an upgrade choice) is retried after the interval. Run returns ctx's
// error, or a power-loss error from a chip (the device must be restarted).
func (e *Engine) Run(ctx context.Context) error {
	e.drainWake() // wake-ups from before Run started: it reads the schedule now
	for {
		e.mu.Lock()
		next := e.nextSync
		e.mu.Unlock()
		if d := next.Sub(e.clock.Now()); d > 0 {
			if err := e.sleep(ctx, d); err != nil {
				return err
			}
			continue // due, or woken: read the schedule again
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rep, err := e.Round(ctx)
		e.drainWake() // the round's own wake-up: the schedule is read again below
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, hal.ErrPowerLoss) || errors.Is(err, hal.ErrClosed) {
				if e.opts.OnRound != nil {
					e.opts.OnRound(rep, err)
				}
				return err
			}
			e.mu.Lock()
			if !e.nextSync.After(e.clock.Now()) {
				e.nextSync = e.clock.Now().Add(e.cfg.Interval)
			}
			e.mu.Unlock()
		}
		if e.opts.OnRound != nil {
			e.opts.OnRound(rep, err)
		}
	}
}

// sleep waits d on the engine's clock, or less if kick wakes it; the error
// is ctx's.
func (e *Engine) sleep(ctx context.Context, d time.Duration) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-e.wake:
			cancel()
		case <-done:
		}
	}()
	err := e.clock.Sleep(wctx, d)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil && wctx.Err() == nil {
		return err // the clock failed
	}
	return nil
}
