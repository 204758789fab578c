package campaign

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// The lifecycle scenario ("lifecycle"): the daemon's life around the
// rounds, on the long run's small store (a 256 KiB region on 2 MiB
// MX66L1G45G chips). Each step starts the engine afresh (engine.Open, as
// the daemon does at every start) and does one thing of a CMC's life:
//
//	format            both chips formatted, the primary's region filled
//	first-round       the first round
//	config            the CMC's activity, a configuration change
//	                  (engine.SetConfig, acknowledged when it returns),
//	                  then a round
//	upgrade-keep      an image upgrade (written outside the engine), the
//	                  round that finds it pending, the keep-upgraded choice
//	restore-defaults  another upgrade, the restore-defaults choice right
//	                  after the start (Open notes the upgrade; had it not
//	                  read the image header, the choice is refused and a
//	                  round that finds the upgrade comes first)
//	scrub-repair      chunks of the backup damaged (outside the engine),
//	                  a whole scrub pass (engine.ScrubStep), the round
//	                  that repairs them
//	restart           a plain start and a round
//	table-miss        a chunk of the primary's information changed behind
//	                  its change table's back (the entry and the record's
//	                  CRC kept, tablemiss.go), a round (which misses it), a
//	                  whole scrub pass that must count exactly that one
//	                  change-table fault, the round that syncs it
//	idle-erase        the CMC's activity, a round, the idle-time
//	                  erase-ahead (engine.IdleEraseStep until done), the
//	                  same activity again and a round, which must erase
//	                  nothing (its erases were done ahead)
//	failover          a round whose primary reads time out (an injector of
//	                  its own over chip A): the failover to chip B; then
//	                  engine.Reseed, which must refuse (the standby chip A
//	                  still holds a store of the pair)
//	reseed            chip A's store range formatted as a store of
//	                  another pair (a used chip put in, outside the
//	                  engine); engine.Reseed must refuse without force
//	                  (which chip is the standby?), and with force naming
//	                  chip A erases it, formats it as the standby and runs
//	                  a round
//	failback          engine.Failback (chip A active again, its region
//	                  written from the newest generation), a round
//	config-groups     configuration changes one at a time: fewer types in
//	                  groups of two, then only the threshold, only the
//	                  interval, only retry-at-once changed, each
//	                  acknowledged by SetConfig and followed by rounds
//
// The campaign records the whole life once, with a snapshot of both chips
// before every flash operation (programs split into page programs, as the
// standard scenario does), and cuts the power at every operation of every
// step, clean and torn. After each cut a plain start follows (after a cut
// format: the start policy the daemon uses, engine.FormatWasCut), then
// the oracle (lifecycle_judge.go), then the step's completion.
//
// Operation indexes count from the first operation of the format over
// the whole life, so a replay line's (at N) names one operation of one
// step: "lifecycle seed=1 mutant=none | (on (at 812) cut) | none".

// LifecycleScenario is the lifecycle scenario's name.
const LifecycleScenario = "lifecycle"

// The steps of the life.
const (
	stepFormat = iota
	stepFirstRound
	stepConfig
	stepKeep
	stepRestore
	stepScrub
	stepRestart
	stepTableMiss
	stepIdleErase
	stepFailover
	stepReseed
	stepFailback
	stepGroups
	lifeSteps
)

var stepNames = [lifeSteps]string{"format", "first-round", "config", "upgrade-keep", "restore-defaults", "scrub-repair", "restart",
	"table-miss", "idle-erase", "failover", "reseed", "failback", "config-groups"}

// scrubDamaged is how many committed chunks of the backup the scrub step
// damages (one of each of the first types with more than one chunk).
const scrubDamaged = 3

// lifeConfigs are the configuration of the format (c1) and the one the
// config step sets (c2): every field differs, so a revert shows.
func lifeConfigs(sc Scenario) (c1, c2 engine.Config) {
	c1 = engine.Config{Types: sc.Types, Interval: sc.Interval, Threshold: sc.Threshold}
	c2 = engine.Config{Types: sc.Types, Interval: sc.NextInterval, Threshold: 3 * sc.Threshold, Verify: true, RetryAtOnce: true}
	return c1, c2
}

// stepFacts is what the oracle knows of a step from before it ran: the
// backup's committed state before it (nil before the format), the
// configuration acknowledged before it, and per step what it adds.
type stepFacts struct {
	step  int
	first int64 // global index of the step's first operation
	// before is the backup's committed state at the step's start
	// (reference decoder), nil before the format.
	before *reference.Backup
	// acked is the configuration acknowledged before the step (the
	// format's, or what SetConfig returned nil for); ackedAt, in the
	// config step, the global index of the first operation after
	// SetConfig returned (-1: not yet), and next the configuration it
	// set.
	acked   engine.Config
	ackedAt int64
	next    engine.Config
	// activity: the CMC changed the primary's information at the step's
	// start, so the primary may differ from the committed generation
	// until a round commits.
	activity bool
	// choice is the step's upgrade choice (NoChoice: none).
	choice engine.UpgradeChoice
	// damaged lists the backup chunks the scrub step damaged.
	damaged []chunkRef
	// forged lists the primary's chunks the table-miss step changed
	// behind the change table's back.
	forged []chunkRef
	// stale is the type whose record the table-miss step wrote with its
	// change table left as before (0: none).
	stale info.Type
	// sets are the configurations the config-groups step sets in order,
	// setAt[k] the global indexes of the first operation of SetConfig
	// (sets[k]) and of the first one after it returned (-1: not yet).
	sets  []engine.Config
	setAt [][2]int64
}

// chunkRef is one committed chunk of a type.
type chunkRef struct {
	Type  uint8
	Index int
}

func (c chunkRef) String() string { return fmt.Sprintf("%v chunk %d", info.Type(c.Type), c.Index) }

// lifeOp is one recorded operation of the life, with the chips' state and
// the time just before it.
type lifeOp struct {
	op        faults.Op
	step      int
	snapshots [2]*sim.Snapshot
	time      time.Time
}

// lifecycle is the recorded life of one seed and engine variant.
type lifecycle struct {
	scenario Scenario
	seed     uint64
	mutant   engine.Mutant
	part     sim.Part
	layout   engine.Layout
	ops      []lifeOp
	facts    [lifeSteps]stepFacts
	// end is the committed state the whole life ends with.
	end *reference.Backup
}

// lifeRun is one run of the life on two chips, wrapped by an injector:
// the recording (no faults) or a replay (a case's round schedule).
type lifeRun struct {
	sc      Scenario
	seed    uint64
	mutant  engine.Mutant
	chips   [2]*sim.Flash
	clock   *harnessClock
	layout  engine.Layout
	in      *faults.Injector
	wrapped [2]hal.Flash
	// step is the step running; facts what is known of each step.
	step  int
	facts [lifeSteps]stepFacts
}

// newLifeRun returns a run of the life on fresh chips with schedule s.
func newLifeRun(sc Scenario, seed uint64, m engine.Mutant, s faults.Schedule, trace faults.Trace) (*lifeRun, error) {
	part, err := sim.LookupPart(sc.Part)
	if err != nil {
		return nil, err
	}
	chips, simClock, err := sc.openChips(part, seed)
	if err != nil {
		return nil, err
	}
	r := &lifeRun{sc: sc, seed: seed, mutant: m, chips: chips, clock: newHarnessClock(simClock)}
	if r.layout, err = engine.DefaultLayout(chips[0].Geometry(), sc.RegionSize); err != nil {
		return nil, err
	}
	r.in = faults.NewInjector(s, faults.Options{SplitPages: true, Clock: r.clock, Trace: trace})
	r.wrapped = [2]hal.Flash{r.in.Wrap(chips[0], faults.Primary), r.in.Wrap(chips[1], faults.Backup)}
	return r, nil
}

// options are the engine options of the life: the format's configuration
// c1, the mutant.
func lifeOptions(sc Scenario, l engine.Layout, clock hal.Clock, m engine.Mutant) engine.Options {
	c1, _ := lifeConfigs(sc)
	return engine.Options{Clock: clock, Layout: l, Mutant: m, ProbeEvery: probeEvery, Config: c1}
}

// errLife wraps what went wrong in a run of the life other than the power
// loss a fault caused.
var errLife = errors.New("lifecycle")

// run runs the life from the format to the end, or to the power loss the
// schedule causes (then it returns an error wrapping hal.ErrPowerLoss,
// r.step being the step cut).
func (r *lifeRun) run(ctx context.Context) error {
	c1, c2 := lifeConfigs(r.sc)
	opts := lifeOptions(r.sc, r.layout, r.clock, r.mutant)
	g := cmcsim.New(r.seed)
	acked := c1
	for r.step = 0; r.step < lifeSteps; r.step++ {
		f := stepFacts{step: r.step, first: r.in.Ops(), acked: acked, ackedAt: -1}
		if r.step > stepFormat {
			nb, err := newestBackup(r.chips, r.layout)
			if err != nil {
				return fmt.Errorf("%w: before step %s: %w", errLife, stepNames[r.step], err)
			}
			f.before = nb.bk
		}
		// What happens to the chips outside the engine, before the step.
		switch r.step {
		case stepConfig:
			f.activity, f.next = true, c2
			region, err := info.OpenRegion(r.chips[0], r.layout.InfoOff, r.layout.InfoSize)
			if err == nil {
				err = g.Step(region, r.sc.Activity)
			}
			if err != nil {
				return fmt.Errorf("%w: the CMC's activity: %w", errLife, err)
			}
		case stepKeep, stepRestore:
			f.choice = engine.KeepUpgraded
			if r.step == stepRestore {
				f.choice = engine.RestoreDefaults
			}
			if err := r.upgradeImage(uint64(r.step)); err != nil {
				return err
			}
		case stepScrub:
			f.damaged = r.damage(f.before)
		case stepTableMiss:
			f.activity = true
			forged, err := forgeTableMiss(r.chips[0], r.layout)
			if err != nil {
				return fmt.Errorf("%w: %w", errLife, err)
			}
			f.forged = []chunkRef{forged}
			f.stale = info.FaultLog
			if forged.Type == uint8(f.stale) {
				f.stale = info.EventLog
			}
			if err := staleTable(r.chips[0], r.layout, f.stale); err != nil {
				return fmt.Errorf("%w: %w", errLife, err)
			}
		case stepIdleErase, stepGroups:
			f.activity = true
			if err := r.activity(g, r.activitySpan()); err != nil {
				return err
			}
		case stepReseed:
			// Chip A replaced in the field by a chip of another pair.
			if err := r.otherPairStore(); err != nil {
				return err
			}
		}
		f.first = r.in.Ops()
		r.facts[r.step] = f
		err := r.runStep(ctx, opts, g, &r.facts[r.step])
		if err != nil {
			return err
		}
		if r.step == stepConfig {
			acked = c2
		}
		if n := len(r.facts[r.step].sets); n > 0 {
			acked = r.facts[r.step].sets[n-1]
		}
	}
	return nil
}

// activitySpan is how long the CMC is active before a step: an hour
// before the idle erase (a round that rewrites whole chunks into data
// blocks and fills more than one journal block), else the scenario's.
func (r *lifeRun) activitySpan() time.Duration {
	if r.step == stepIdleErase {
		return idleActivity
	}
	return r.sc.Activity
}

// idleActivity is the CMC's activity before each round of the idle-erase
// step.
const idleActivity = time.Hour

// activity is the CMC's activity on the primary (chip A) outside the
// engine.
func (r *lifeRun) activity(g *cmcsim.Generator, d time.Duration) error {
	region, err := info.OpenRegion(r.chips[0], r.layout.InfoOff, r.layout.InfoSize)
	if err == nil {
		err = g.Step(region, d)
	}
	if err != nil {
		return fmt.Errorf("%w: the CMC's activity: %w", errLife, err)
	}
	return nil
}

// runStep runs the engine's part of the current step.
func (r *lifeRun) runStep(ctx context.Context, opts engine.Options, g *cmcsim.Generator, f *stepFacts) (err error) {
	a, b := r.wrapped[0], r.wrapped[1]
	name := stepNames[r.step]
	switch r.step {
	case stepFormat:
		_, err := engine.FormatAndFill(a, b, opts, g.Populate)
		return lifeErr(name, err)
	case stepReseed:
		return r.reseed(ctx, opts)
	case stepFailover:
		return r.failover(ctx, opts)
	}
	e, err := engine.Open(ctx, a, b, opts)
	if err != nil {
		return lifeErr(name, err)
	}
	defer e.Release()
	defer func() {
		if err == nil {
			err = lifeErr(name, stepRepairsJudged(e, f.repairs()))
		}
	}()
	committed := func(rep engine.RoundReport, err error) error {
		if err != nil {
			return lifeErr(name, err)
		}
		if rep.Outcome != engine.OutcomeCommitted && rep.Outcome != engine.OutcomeNothingChanged {
			return fmt.Errorf("%w: step %s: round %s: %s", errLife, name, rep.Outcome, rep.Error)
		}
		return nil
	}
	switch r.step {
	case stepFirstRound, stepRestart:
		return committed(e.Round(ctx))
	case stepConfig:
		if err := e.SetConfig(f.next); err != nil {
			return lifeErr(name, err)
		}
		f.ackedAt = r.in.Ops()
		return committed(e.Round(ctx))
	case stepKeep:
		if err := r.roundFindsUpgrade(ctx, e); err != nil {
			return err
		}
		return committed(e.UpgradeRound(ctx, engine.KeepUpgraded))
	case stepRestore:
		// The choice right after Open, which noted the upgrade. When
		// Open's read of the image header failed, the engine knows of
		// none and refuses (the daemon answers web.ErrNoUpgrade): as
		// there, the next round finds the upgrade and the choice follows.
		rep, err := e.UpgradeRound(ctx, engine.RestoreDefaults)
		if errors.Is(err, engine.ErrNoUpgradePending) {
			if err := r.roundFindsUpgrade(ctx, e); err != nil {
				return err
			}
			rep, err = e.UpgradeRound(ctx, engine.RestoreDefaults)
		}
		return committed(rep, err)
	case stepScrub:
		if err := scrubPassJudged(ctx, e, f.damaged); err != nil {
			return lifeErr(name, err)
		}
		return committed(e.Round(ctx))
	case stepTableMiss:
		return r.tableMiss(ctx, e, f, committed)
	case stepIdleErase:
		return r.idleErase(ctx, e, g, committed)
	case stepFailback:
		return r.failback(ctx, e, committed)
	case stepGroups:
		return r.groups(ctx, e, f, committed)
	}
	return nil
}

// roundFindsUpgrade runs the round after an image upgrade, which must
// end waiting for the choice (engine.ErrUpgradePending).
func (r *lifeRun) roundFindsUpgrade(ctx context.Context, e *engine.Engine) error {
	name := stepNames[r.step]
	_, err := e.Round(ctx)
	switch {
	case errors.Is(err, engine.ErrUpgradePending):
		return nil
	case err != nil:
		return lifeErr(name, err)
	}
	return fmt.Errorf("%w: step %s: the round after the upgrade did not wait for a choice", errLife, name)
}

// lifeErr wraps err (nil stays nil); a power loss stays recognisable.
func lifeErr(step string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, hal.ErrPowerLoss) {
		return err
	}
	return fmt.Errorf("%w: step %s: %w", errLife, step, err)
}

// scrubPass runs the engine's scrub step by step until a pass ends.
func scrubPass(ctx context.Context, e *engine.Engine) error {
	for range 1 << 20 {
		p, err := e.ScrubStep(ctx)
		if err != nil {
			return err
		}
		if p.PassDone {
			return nil
		}
	}
	return errors.New("a scrub pass did not end")
}

// upgradeImage writes the primary's firmware image with the next version,
// outside the engine (a firmware update); n seeds its body.
func (r *lifeRun) upgradeImage(n uint64) error {
	h, err := info.ReadImageHeader(r.chips[0])
	if err != nil {
		return fmt.Errorf("%w: upgrade: %w", errLife, err)
	}
	h.Version = fmt.Sprintf("%s.u%d", h.Version, n)
	h.Built = r.clock.Now()
	if err := info.WriteImage(r.chips[0], h, r.seed+n); err != nil {
		return fmt.Errorf("%w: upgrade: %w", errLife, err)
	}
	return nil
}

// damage flips a byte in the middle chunk of each of the scrubDamaged
// committed types with the most chunks, outside the engine (bit rot), and
// returns the chunks in type order.
func (r *lifeRun) damage(bk *reference.Backup) []chunkRef {
	var out []chunkRef
	e := bk.Superblock.EraseSize
	types := slices.Clone(bk.Committed.Types)
	slices.SortStableFunc(types, func(a, b reference.TypeState) int { return len(b.Chunks) - len(a.Chunks) })
	for _, t := range types {
		if len(out) == scrubDamaged || len(t.Chunks) == 0 {
			continue
		}
		i := len(t.Chunks) / 2
		lo, hi := reference.ChunkBounds(t.Size, int64(t.Phase), e, int64(i))
		off := bk.BlockOffset(t.Chunks[i].Block) + (hi-lo)/2
		if ds := t.Chunks[i].Deltas; len(ds) != 0 {
			d := ds[len(ds)-1]
			// A byte of the base may be one its delta replaces: damage
			// the delta record instead.
			off = bk.BlockOffset(d.Block) + int64(d.Off) + int64(d.Len)/2
		}
		b := make([]byte, 1)
		if _, err := r.chips[1].ReadAt(b, off); err != nil {
			continue
		}
		r.chips[1].Poke(off, []byte{b[0] ^ 0x20})
		out = append(out, chunkRef{Type: t.Type, Index: i})
	}
	slices.SortFunc(out, func(a, b chunkRef) int { return int(a.Type) - int(b.Type) })
	return out
}

var lifecycles struct {
	sync.Mutex
	by map[string]*lifecycle
}

// recordLifecycle records the life of seed and m once (kept for the
// process, as the benches are).
func recordLifecycle(ctx context.Context, sc Scenario, seed uint64, m engine.Mutant) (*lifecycle, error) {
	key := fmt.Sprint(seed, m)
	lifecycles.Lock()
	defer lifecycles.Unlock()
	if l, ok := lifecycles.by[key]; ok {
		return l, nil
	}
	var r *lifeRun
	var ops []lifeOp
	trace := func(op faults.Op) {
		op.Data = slices.Clone(op.Data)
		ops = append(ops, lifeOp{op: op, step: r.step, snapshots: [2]*sim.Snapshot{r.chips[0].Snapshot(), r.chips[1].Snapshot()}, time: r.clock.Now()})
	}
	r, err := newLifeRun(sc, seed, m, faults.Schedule{}, trace)
	if err != nil {
		return nil, err
	}
	if err := r.run(ctx); err != nil {
		return nil, fmt.Errorf("record the life (mutant %v): %w", m, err)
	}
	end, err := decodeChip(r.chips[1], r.chips[0], 1, r.layout.StoreOff, r.layout.StoreSize)
	if err != nil {
		return nil, fmt.Errorf("record the life: %w", err)
	}
	l := &lifecycle{scenario: sc, seed: seed, mutant: m, part: r.chips[0].Part(), layout: r.layout, ops: ops, facts: r.facts, end: end}
	if lifecycles.by == nil {
		lifecycles.by = map[string]*lifecycle{}
	}
	lifecycles.by[key] = l
	return l, nil
}

// stepOf returns the step of global operation index i.
func (l *lifecycle) stepOf(i int64) int {
	s := 0
	for k := range l.facts {
		if l.facts[k].first <= i {
			s = k
		}
	}
	return s
}
