package campaign

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// The long run (scenario "longrun"): the real engine runs round after
// round on a small store, restarted before each (as a CMC that reboots
// between syncs: each restart continues the journal in a new block), the
// CMC's information changing a typical interval's worth between rounds
// and the configuration changing every round (so that every round has a
// staged configuration that reinit must drop). It runs until the journal
// has wrapped — compacted into the other area — three times and the
// allocation cursor has wrapped twice: then compactions and the reuse of
// dirty data blocks have happened under the engine's feet.

// longRunWraps is how many compactions the long run goes to; at most
// longRunMax rounds.
const (
	longRunWraps = 3
	longRunMax   = 600
)

// longRun is the history of one seed's long run.
type longRun struct {
	part   sim.Part
	layout engine.Layout
	// rounds[k-1] is the state before round k: the chips (after the CMC's
	// activity and the configuration change) and the time.
	rounds []historyRound
	// compactions and cursorWraps are the rounds that compacted the
	// journal and that wrapped the allocation cursor.
	compactions, cursorWraps []int
}

type historyRound struct {
	snapshots [2]*sim.Snapshot
	time      time.Time
}

// sampled returns the rounds the longrun campaign tests: the compacting
// rounds and the first two rounds that reuse dirty blocks (those after
// the cursor's first wrap), sorted.
func (h *longRun) sampled() []int {
	rs := slices.Clone(h.compactions[:min(len(h.compactions), longRunWraps)])
	n := 0
	for _, k := range h.cursorWraps[1:] {
		if n == 2 {
			break
		}
		rs = append(rs, k)
		n++
	}
	slices.Sort(rs)
	return slices.Compact(rs)
}

var histories struct {
	sync.Mutex
	bySeed map[uint64]*longRun
}

// history returns the long run of seed, running it on first use.
func history(ctx context.Context, sc Scenario, seed uint64) (*longRun, error) {
	histories.Lock()
	defer histories.Unlock()
	if h, ok := histories.bySeed[seed]; ok {
		return h, nil
	}
	h, err := runHistory(ctx, sc, seed)
	if err != nil {
		return nil, err
	}
	if histories.bySeed == nil {
		histories.bySeed = map[uint64]*longRun{}
	}
	histories.bySeed[seed] = h
	return h, nil
}

// runHistory runs the long run of seed.
func runHistory(ctx context.Context, sc Scenario, seed uint64) (*longRun, error) {
	part, err := sim.LookupPart(sc.Part)
	if err != nil {
		return nil, err
	}
	chips, clock, err := sc.openChips(part, seed)
	if err != nil {
		return nil, err
	}
	h := &longRun{part: part}
	if h.layout, err = engine.DefaultLayout(chips[0].Geometry(), sc.RegionSize); err != nil {
		return nil, err
	}
	b := &bench{scenario: sc, layout: h.layout}
	opts := b.options(clock, engine.None)
	g := cmcsim.New(seed)
	region, err := formatPopulated(chips, opts, g)
	if err != nil {
		return nil, fmt.Errorf("long run: %w", err)
	}
	area, epoch, wraps := 0, uint64(1), uint32(0)
	for k := 1; k <= longRunMax && (len(h.compactions) < longRunWraps || len(h.cursorWraps) < 3); k++ {
		if err := g.Step(region, sc.Activity); err != nil {
			return nil, fmt.Errorf("long run: round %d: %w", k, err)
		}
		e, err := engine.Open(ctx, chips[0], chips[1], opts)
		if err != nil {
			return nil, fmt.Errorf("long run: round %d: open: %w", k, err)
		}
		c := e.Config()
		c.Interval = sc.Interval
		if k%2 == 1 {
			c.Interval = sc.NextInterval
		}
		if err := e.StageConfig(c); err != nil {
			return nil, fmt.Errorf("long run: round %d: %w", k, err)
		}
		h.rounds = append(h.rounds, historyRound{snapshots: [2]*sim.Snapshot{chips[0].Snapshot(), chips[1].Snapshot()}, time: clock.Now()})
		rep, err := e.Round(ctx)
		if err != nil || rep.Outcome != engine.OutcomeCommitted && rep.Outcome != engine.OutcomeNothingChanged {
			return nil, fmt.Errorf("long run: round %d: %s: %v", k, rep.Outcome, err)
		}
		bk, err := decodeChip(chips[1], chips[0], 1, h.layout.StoreOff, h.layout.StoreSize)
		if err != nil {
			return nil, fmt.Errorf("long run: round %d: %w", k, err)
		}
		if bk.Area != area || bk.Epoch != epoch {
			h.compactions = append(h.compactions, k)
			area, epoch = bk.Area, bk.Epoch
		}
		if bk.Wraps != wraps {
			h.cursorWraps = append(h.cursorWraps, k)
			wraps = bk.Wraps
		}
	}
	if len(h.compactions) < longRunWraps || len(h.cursorWraps) < 3 {
		return nil, fmt.Errorf("long run: %d rounds compacted %d times and wrapped the cursor %d times; want %d and 3", longRunMax, len(h.compactions), len(h.cursorWraps), longRunWraps)
	}
	return h, nil
}

// setupLongRun builds the bench of round sc.Round of the long run: its
// base is the state before that round, the generation before it the one
// the previous round committed (the information as the previous round
// read it), the round's generation the information now, with the
// configuration staged for it.
func setupLongRun(ctx context.Context, sc Scenario, seed uint64) (*bench, error) {
	h, err := history(ctx, sc, seed)
	if err != nil {
		return nil, err
	}
	k := sc.Round
	if k < 2 || k > len(h.rounds) {
		return nil, fmt.Errorf("scenario %s: the long run of seed %d has rounds 1 to %d; round %d has no round before it", sc.Name, seed, len(h.rounds), k)
	}
	b := &bench{scenario: sc, seed: seed, part: h.part, layout: h.layout, memo: newBaseMemo()}
	chips, _, err := sc.openChips(h.part, seed)
	if err != nil {
		return nil, err
	}
	b.eraseSize = chips[0].Geometry().EraseSize
	b.interruptBound = interruptBound(h.part, probeEvery, b.eraseSize)
	// The generation before the round: what round k-1 read and committed.
	prev := h.rounds[k-2]
	chips[0].Restore(prev.snapshots[0])
	chips[1].Restore(prev.snapshots[1])
	if b.prevGen, err = b.historyGeneration(chips); err != nil {
		return nil, err
	}
	cur := h.rounds[k-1]
	chips[0].Restore(cur.snapshots[0])
	chips[1].Restore(cur.snapshots[1])
	if b.roundGen, err = b.historyGeneration(chips); err != nil {
		return nil, err
	}
	region, err := info.OpenRegion(chips[0], b.layout.InfoOff, b.layout.InfoSize)
	if err != nil {
		return nil, err
	}
	if err := b.setBase(chips, cur.time, region); err != nil {
		return nil, err
	}
	return b, nil
}

// historyGeneration reads, from chips as they were before a round of the
// long run, the generation that round commits: the primary's information,
// numbered one past the backup's committed generation, with the
// configuration staged for it.
func (b *bench) historyGeneration(chips [2]*sim.Flash) (*generation, error) {
	bk, err := decodeChip(chips[1], chips[0], 1, b.layout.StoreOff, b.layout.StoreSize)
	if err != nil {
		return nil, fmt.Errorf("long run: %w", err)
	}
	if bk.Staged == nil {
		return nil, fmt.Errorf("long run: no staged configuration before the round")
	}
	region, err := info.OpenRegion(chips[0], b.layout.InfoOff, b.layout.InfoSize)
	if err != nil {
		return nil, err
	}
	return readGeneration(region, b.scenario.Types, bk.Committed.Generation+1, engineConfig(*bk.Staged))
}

// longRunBenches returns the benches of the longrun campaign: each sampled
// round of the history. (The same round with the chips given the other
// way round is no bench: the engine refuses such a pair by the chips'
// identities and writes nothing, which TestLongRun checks.)
func longRunBenches(ctx context.Context, sc Scenario, seed uint64, m engine.Mutant) ([]*bench, error) {
	h, err := history(ctx, sc, seed)
	if err != nil {
		return nil, err
	}
	var out []*bench
	for _, k := range h.sampled() {
		b, err := loadBench(ctx, fmt.Sprintf("%s@%d", sc.Name, k), seed, m)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// longRunPoints lists the points of a round of the long run: a power cut
// and its torn variants at every operation, a failed read of the primary
// at each of its reads, silent erase failures at every backup erase and a
// weak program at every journal program (the compactions' checkpoints
// among them); and, for the first round sampled (first), the backup
// re-imaged from a dump of the primary before the engine opens. (A bench
// with the chips swapped, which the engine now refuses, gets the cuts
// alone.)
func (b *bench) longRunPoints(first bool) []point {
	var ps []point
	for i, st := range b.steps {
		op := st.op
		if b.scenario.Swapped {
			ps = append(ps, point{opIndex: i, kind: pointCut})
			continue
		}
		ps = append(ps, cutVariants(i, op)...)
		at := faults.At{Index: int64(i)}
		switch {
		case op.Role == faults.Primary && op.Kind == faults.Read:
			ps = append(ps, point{opIndex: i, kind: pointAnomaly, round: b.rule(at, faults.Fail{Kind: faults.FailMedia})})
		case op.Role == faults.Backup && op.Kind == faults.Erase:
			ps = append(ps, point{opIndex: i, kind: pointSilentErase, round: b.rule(at, faults.SilentErase{})},
				point{opIndex: i, kind: pointSilentErase, round: b.rule(at, faults.SilentErase{Partial: true})})
		case op.Role == faults.Backup && op.Kind == faults.Program && !b.inDataArea(op.Off):
			ps = append(ps, point{opIndex: i, kind: pointWeak, round: b.rule(at, faults.Weak{})})
		}
	}
	if first && !b.scenario.Swapped {
		ps = append(ps, point{opIndex: -1, kind: pointReimage, before: b.rule(faults.At{Index: 0}, faults.Copy{From: faults.Primary, To: faults.Backup})})
	}
	return ps
}
