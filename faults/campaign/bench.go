package campaign

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
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
	"github.com/cmcsync/cmcsync/sync/store"
)

// epoch is the virtual time the chips start at.
var epoch = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// generation is what a committed generation must hold: every selected
// type's payload as the primary held it, and the configuration committed
// with it.
type generation struct {
	number   uint64
	config   engine.Config
	payloads map[info.Type][]byte

	mu     sync.Mutex
	chunks map[chunkKey][]uint64 // memoised per type and phase
	crcs   map[info.Type]uint32  // memoised info.Checksum of each payload
	print  uint64                // contentPrint, once computed (0: not yet)
}

// contentPrint fingerprints what matching a store against g depends on:
// its number and every type's payload. Memo keys use it rather than g's
// address, so that they neither keep a generation read for one run alive
// nor miss for an equal one read again.
func (g *generation) contentPrint() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.print != 0 {
		return g.print
	}
	var h maphash.Hash
	h.SetSeed(hashSeed)
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], g.number)
	h.Write(n[:])
	types := make([]info.Type, 0, len(g.payloads))
	for t := range g.payloads {
		types = append(types, t)
	}
	slices.Sort(types)
	for _, t := range types {
		binary.LittleEndian.PutUint64(n[:], uint64(t)<<56|uint64(len(g.payloads[t])))
		h.Write(n[:])
		h.Write(g.payloads[t])
	}
	g.print = h.Sum64() | 1
	return g.print
}

// crc returns info.Checksum of t's payload.
func (g *generation) crc(t info.Type) uint32 {
	g.mu.Lock()
	defer g.mu.Unlock()
	c, ok := g.crcs[t]
	if !ok {
		c = info.Checksum(g.payloads[t])
		if g.crcs == nil {
			g.crcs = map[info.Type]uint32{}
		}
		g.crcs[t] = c
	}
	return c
}

type chunkKey struct {
	infoType info.Type
	phase    int64
}

// chunkPrints returns the fingerprints (see fingerprint) of type t's
// chunks at phase.
func (g *generation) chunkPrints(t info.Type, phase, chunkSize int64) []uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	k := chunkKey{t, phase}
	if d, ok := g.chunks[k]; ok {
		return d
	}
	p := g.payloads[t]
	size := int64(len(p))
	d := make([]uint64, reference.ChunkCount(size, phase, chunkSize))
	for i := range d {
		lo, hi := reference.ChunkBounds(size, phase, chunkSize, int64(i))
		d[i] = fingerprint(p[lo:hi])
	}
	g.chunks[k] = d
	return d
}

// step is one flash operation of a recorded run, with the chips' state and
// the time just before it.
type step struct {
	op        faults.Op
	snapshots [2]*sim.Snapshot
	time      time.Time
}

// bench is a scenario set up once: the chips after the first sync and the
// CMC activity (the base), the two generations the round may leave, and
// the recorded round of one engine variant.
type bench struct {
	scenario         Scenario
	seed             uint64
	mutant           engine.Mutant
	part             sim.Part
	layout           engine.Layout
	base             [2]*sim.Snapshot
	baseTime         time.Time // clock at the base
	primaryBaseStats hal.Stats // chip A's statistics at the base
	prevGen          *generation
	roundGen         *generation
	eraseSize        int64
	// interruptBound is the interrupt-bound invariant's bound for the
	// scenario's part (see interruptBound).
	interruptBound int
	// journalOff and journalSize are the backup store's metadata range,
	// dataOff and dataSize its data area.
	journalOff, journalSize int64
	dataOff, dataSize       int64
	// baseBackup is the base's backup store as the reference decoder
	// reads it; records are the chip offsets of the primary's records of
	// the scenario's types (their 32-byte headers, then the payloads).
	baseBackup *reference.Backup
	records    map[info.Type]int64
	steps      []step // the recorded round
	// answers are how the recorded round's operations ended, by index
	// (faults.Answer).
	answers []faults.Answer
	roundOK bool
	// prepared is the recorded round's first half (engine.Prepare), and
	// split the index of the first operation of its second half: an
	// anomaly at a later operation branches there, applying prepared on
	// an engine opened on the base, instead of reading the information
	// region again.
	prepared *engine.Prepared
	split    int
	// writes are the recorded round's programs and erases in order;
	// writesBefore[i] is how many of them come before step i.
	writes       []faults.Op
	writesBefore []int
	// memo holds what the oracle computed from the base state (shared
	// by every worker and every mutant of the base).
	memo *baseMemo
}

// baseMemo caches pure functions of the base state's blocks: their
// fingerprint over a length (prints, keyed by blockKey with version 0) and
// their hash (hashes, keyed by chip and offset), and the store views
// decoded from metadata that differs from the base in known ways (views).
// The base never changes, so the entries stay valid; workers share them.
type baseMemo struct {
	prints sync.Map // blockKey → uint64
	hashes sync.Map // [2]int64 → uint64
	views  viewCache
	// digests memoises chunk digests by the chunks' exact bytes for every
	// engine opened on the bench (engine.Options.Digests): each point's
	// recovery checks the backup's committed chunks at Open, nearly all
	// the base's. A changed bit misses (see store.DigestMemo).
	digests *store.DigestMemo
}

func newBaseMemo() *baseMemo { return &baseMemo{digests: store.NewDigestMemo(0)} }

// threshold is the response-time threshold the round under test runs
// with.
func (b *bench) threshold() time.Duration { return b.roundGen.config.Threshold }

// generation returns the generation numbered n that the oracle knows (the
// one before the round, or the round's), or nil.
func (b *bench) generation(n uint64) *generation {
	switch n {
	case b.prevGen.number:
		return b.prevGen
	case b.roundGen.number:
		return b.roundGen
	}
	return nil
}

// openChips returns two erased chips of the scenario sharing one clock.
func (sc Scenario) openChips(part sim.Part, seed uint64) ([2]*sim.Flash, *sim.Clock, error) {
	clock := sim.NewClock(epoch)
	var chips [2]*sim.Flash
	for i := range chips {
		c, err := sim.New(sim.Options{Part: part, Size: sc.ChipSize, Clock: clock, Name: fmt.Sprintf("flash%d", i), Seed: seed + uint64(i)})
		if err != nil {
			return chips, nil, err
		}
		chips[i] = c
		for _, blk := range sc.FactoryBad[i] {
			if err := c.MarkBad(blk * c.Geometry().EraseSize); err != nil {
				return chips, nil, fmt.Errorf("scenario %s: factory bad block %d of chip %d: %w", sc.Name, blk, i, err)
			}
		}
	}
	return chips, clock, nil
}

// probeEvery is the engine's probe interval in every campaign
// (engine.Options.ProbeEvery): the interrupt-bound invariant's bound is
// derived from it.
const probeEvery = 20 * time.Millisecond

// open opens the engine on the pair (chip A, chip B), given to it in
// that order, or in the other with a swapped scenario.
func (b *bench) open(ctx context.Context, chipA, chipB hal.Flash, clock hal.Clock, m engine.Mutant) (*engine.Engine, error) {
	if b.scenario.Swapped {
		chipA, chipB = chipB, chipA
	}
	return engine.Open(ctx, chipA, chipB, b.options(clock, m))
}

// formatPopulated formats both chips, filling the information region with
// g's first contents, and returns the region.
func formatPopulated(chips [2]*sim.Flash, opts engine.Options, g *cmcsim.Generator) (*info.Region, error) {
	var region *info.Region
	_, err := engine.FormatAndFill(chips[0], chips[1], opts, func(r *info.Region) error {
		region = r
		return g.Populate(r)
	})
	return region, err
}

func (b *bench) options(clock hal.Clock, m engine.Mutant) engine.Options {
	var digests *store.DigestMemo
	if b.memo != nil { // nil while a long run's history is built
		digests = b.memo.digests
	}
	return engine.Options{Clock: clock, Layout: b.layout, Mutant: m, ProbeEvery: probeEvery, Digests: digests,
		Config: engine.Config{Types: b.scenario.Types, Interval: b.scenario.Interval, Threshold: b.scenario.Threshold}}
}

// setup builds the base state with the real engine: format, populate the
// primary, sync once, change the configuration, let the CMC run.
func setup(ctx context.Context, sc Scenario, seed uint64) (*bench, error) {
	part, err := sim.LookupPart(sc.Part)
	if err != nil {
		return nil, err
	}
	b := &bench{scenario: sc, seed: seed, part: part, memo: newBaseMemo()}
	chips, clock, err := sc.openChips(part, seed)
	if err != nil {
		return nil, err
	}
	if b.layout, err = engine.DefaultLayout(chips[0].Geometry(), sc.RegionSize); err != nil {
		return nil, err
	}
	b.eraseSize = chips[0].Geometry().EraseSize
	b.interruptBound = interruptBound(part, probeEvery, b.eraseSize)
	opts := b.options(clock, engine.None)
	if sc.OldStore != "" {
		return b.setupOldStore(ctx, sc, chips, clock, opts) // oldstore.go
	}
	g := cmcsim.New(seed)
	region, err := formatPopulated(chips, opts, g)
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	if sc.FormatVersion > 0 {
		if err := storesAsVersion(chips, b.layout.StoreOff, sc.FormatVersion); err != nil {
			return nil, fmt.Errorf("setup: format version %d: %w", sc.FormatVersion, err)
		}
	}
	e, err := engine.Open(ctx, chips[0], chips[1], opts)
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	if _, err := e.Round(ctx); err != nil {
		return nil, fmt.Errorf("setup: first sync: %w", err)
	}
	if err := denseHistory(ctx, sc, e, region); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	return b.stageRoundUnderTest(e, sc, chips, clock, region, func() error {
		if sc.ScatterRun > 0 {
			return scatter(region, sc, sc.DenseRounds+1)
		}
		return g.Step(region, sc.Activity)
	})
}

// stageRoundUnderTest ends setup once the engine e holds the base history:
// it reads the committed generation, stages the next interval, makes the
// round's change to the primary's region (change), reads the generation
// the round under test must commit, and keeps the chips as every point's
// base.
func (b *bench) stageRoundUnderTest(e *engine.Engine, sc Scenario, chips [2]*sim.Flash, clock *sim.Clock, region *info.Region, change func() error) (*bench, error) {
	st := e.Status()
	var err error
	if b.prevGen, err = readGeneration(region, sc.Types, st.Generation, e.Config()); err != nil {
		return nil, err
	}
	next := e.Config()
	next.Interval = sc.NextInterval
	if err := e.StageConfig(next); err != nil {
		return nil, fmt.Errorf("setup: change the configuration: %w", err)
	}
	if err := change(); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	if b.roundGen, err = readGeneration(region, sc.Types, st.Generation+1, next); err != nil {
		return nil, err
	}
	if err := b.setBase(chips, clock.Now(), region); err != nil {
		return nil, err
	}
	return b, nil
}

// setBase makes the chips as they are (at virtual time at, the primary's
// information region) the bench's base: the backup store as the reference
// decoder reads it, where its parts lie, where the primary's records lie,
// and the chips' snapshots and statistics.
func (b *bench) setBase(chips [2]*sim.Flash, at time.Time, region *info.Region) error {
	bs, err := decodeChip(chips[1], chips[0], 1, b.layout.StoreOff, b.layout.StoreSize)
	if err != nil {
		return fmt.Errorf("setup: read the backup store: %w", err)
	}
	b.journalOff, b.journalSize = bs.MetadataRange()
	b.dataOff, b.dataSize = bs.DataRange()
	b.baseBackup = bs
	b.records = map[info.Type]int64{}
	for _, t := range b.scenario.Types {
		b.records[t], _ = region.Extent(t)
	}
	b.base = [2]*sim.Snapshot{chips[0].Snapshot(), chips[1].Snapshot()}
	b.baseTime = at
	b.primaryBaseStats = chips[0].Stats()
	return nil
}

func readGeneration(r *info.Region, types []info.Type, num uint64, cfg engine.Config) (*generation, error) {
	g := &generation{number: num, config: cfg.Clone(), payloads: map[info.Type][]byte{}, chunks: map[chunkKey][]uint64{}}
	for _, t := range types {
		rec, err := r.Read(t)
		if err != nil {
			return nil, fmt.Errorf("setup: read %v from the primary: %w", t, err)
		}
		g.payloads[t] = rec.Payload
	}
	return g, nil
}

// withMutant returns a copy of the bench for engine variant m with its
// round recorded: every flash operation, with snapshots of both chips and
// the time just before it.
func (b *bench) withMutant(ctx context.Context, m engine.Mutant) (*bench, error) {
	nb := *b
	nb.mutant = m
	nb.steps, nb.answers = nil, nil
	chips, clock, err := b.scenario.openChips(b.part, b.seed)
	if err != nil {
		return nil, err
	}
	hc := newHarnessClock(clock)
	chips[0].Restore(b.base[0])
	chips[1].Restore(b.base[1])
	hc.set(b.baseTime)
	in := faults.NewInjector(faults.Schedule{}, faults.Options{SplitPages: true, Clock: hc, Disarmed: true, Trace: func(op faults.Op) {
		op.Data = slices.Clone(op.Data)
		nb.steps = append(nb.steps, step{op: op, snapshots: [2]*sim.Snapshot{chips[0].Snapshot(), chips[1].Snapshot()}, time: hc.Now()})
	}, Answered: func(a faults.Answer) { nb.answers = append(nb.answers, a) }})
	wa, wb := in.Wrap(chips[0], faults.Primary), in.Wrap(chips[1], faults.Backup)
	before := [2]hal.Stats{chips[0].Stats(), chips[1].Stats()}
	e, err := b.open(ctx, wa, wb, hc, m)
	if err != nil {
		return nil, fmt.Errorf("record: open: %w", err)
	}
	for i, c := range chips {
		// The oracle takes blocks no traced operation wrote to hold the
		// base contents: opening a clean pair must not write.
		if s := c.Stats(); s.Programs != before[i].Programs || s.Erases != before[i].Erases {
			return nil, fmt.Errorf("record: the engine wrote %s while opening a clean pair", c.Geometry().Name)
		}
	}
	in.Arm()
	// The round is recorded as its two halves, which do what Round does
	// operation for operation (an engine test proves it).
	prep, rep, err := e.Prepare(ctx)
	if err != nil || prep == nil {
		return nil, fmt.Errorf("record: the round without faults ended while collecting (%s): %v", rep.Outcome, err)
	}
	nb.prepared, nb.split = prep, len(nb.steps)
	for _, st := range nb.steps {
		if st.op.Kind != faults.Read {
			return nil, fmt.Errorf("record: the engine wrote before it applied the round: %v", st.op)
		}
	}
	rep, err = e.Apply(ctx, prep)
	if err != nil {
		return nil, fmt.Errorf("record: the round without faults failed: %w", err)
	}
	if rep.Generation != b.roundGen.number {
		return nil, fmt.Errorf("record: the round committed generation %d, want %d", rep.Generation, b.roundGen.number)
	}
	nb.roundOK = true
	nb.writesBefore = make([]int, len(nb.steps)+1)
	for i, st := range nb.steps {
		nb.writesBefore[i] = len(nb.writes)
		if st.op.Kind != faults.Read {
			nb.writes = append(nb.writes, st.op)
		}
	}
	nb.writesBefore[len(nb.steps)] = len(nb.writes)
	return &nb, nil
}

// benches caches scenario setups (the real engine's first sync) and
// recorded rounds per process.
var benches struct {
	sync.Mutex
	base     map[string]*bench
	recorded map[string]*bench
}

// loadBench returns the bench of scenario and seed with mutant's round
// recorded, setting it up on first use.
func loadBench(ctx context.Context, scenario string, seed uint64, mutant engine.Mutant) (*bench, error) {
	sc, err := LookupScenario(scenario)
	if err != nil {
		return nil, err
	}
	if err := checkMutant(mutant); err != nil {
		return nil, err
	}
	benches.Lock()
	defer benches.Unlock()
	if benches.base == nil {
		benches.base, benches.recorded = map[string]*bench{}, map[string]*bench{}
	}
	key := fmt.Sprintf("%s/%d", scenario, seed)
	recorded := key + "/" + mutant.String()
	if b, ok := benches.recorded[recorded]; ok {
		return b, nil
	}
	base, ok := benches.base[key]
	if !ok {
		if sc.Round > 0 {
			base, err = setupLongRun(ctx, sc, seed)
		} else {
			base, err = setup(ctx, sc, seed)
		}
		if err != nil {
			return nil, err
		}
		benches.base[key] = base
	}
	b, err := base.withMutant(ctx, mutant)
	if err != nil {
		return nil, err
	}
	benches.recorded[recorded] = b
	return b, nil
}
