package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/info"
)

// errSkip marks a scenario that cannot run on a part (e.g. the region and
// the engine's layout do not fit the chip).
var errSkip = errors.New("skipped")

// Run measures every strategy on every scenario of c and judges the targets.
// A scenario that does not fit a part is listed in Report.Skipped; any other
// failure stops the run with an error naming the scenario and the seed.
func Run(ctx context.Context, c Config) (*Report, error) {
	c, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	parts, warnings, err := c.resolveParts()
	if err != nil {
		return nil, err
	}
	rep := &Report{Seed: c.Seed, Started: time.Now().UTC().Format(time.RFC3339), Warnings: warnings}
	// Region contents per size, erase model and geometry (a profile may
	// have another erase or page size than the table's parts), shared by
	// every part of that geometry (built serially).
	type stateKey struct {
		size        int64
		em          sim.EraseModel
		unit, pages int64
	}
	states := map[stateKey]*regionStates{}
	changes := newChangeCache(c.Seed)
	type job struct {
		sc    *scenario
		st    *regionStates
		rows  []Row
		err   error
		order int
	}
	var jobs []*job
	for _, part := range parts {
		for _, timing := range c.Timings {
			for _, emName := range c.EraseModels {
				em, _ := sim.ParseEraseModel(emName)
				if _, err := part.EraseUnit(em); err != nil {
					rep.Skipped = append(rep.Skipped, fmt.Sprintf("%s %s %v: %v", part.Name, timing, em, err))
					continue
				}
				for _, size := range c.Sizes {
					sc, err := newScenario(part, timing, em, size, c)
					if err != nil {
						return nil, err
					}
					g := sc.geometry()
					key := stateKey{size, em, g.EraseSize, g.PageSize}
					st := states[key]
					if size > part.Size {
						st = nil // another part of the geometry may have built it
					} else if st == nil {
						if st, err = buildStates(part, em, size, c.Seed); err != nil {
							return nil, fmt.Errorf("%s region contents for the %v erase model (seed %d): %w", hal.FormatSize(size), em, c.Seed, err)
						}
						states[key] = st
					}
					if st == nil {
						rep.Skipped = append(rep.Skipped, sc.name()+": the region is larger than the chip")
						continue
					}
					jobs = append(jobs, &job{sc: sc, st: st, order: len(jobs)})
				}
			}
		}
	}
	// Scenarios are independent (own chips, own clock): run them on every
	// CPU. Results do not depend on the order.
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		next     int
		progress = c.Progress
	)
	if progress != nil {
		progress = func(line string) { mu.Lock(); defer mu.Unlock(); c.Progress(line) }
	}
	for range min(runtime.GOMAXPROCS(0), len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if next == len(jobs) || ctx.Err() != nil {
					mu.Unlock()
					return
				}
				j := jobs[next]
				next++
				mu.Unlock()
				j.rows, j.err = j.sc.run(ctx, j.st, changes, c.Workloads, progress)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, j := range jobs {
		switch {
		case errors.Is(j.err, errSkip):
			rep.Skipped = append(rep.Skipped, j.err.Error())
		case j.err != nil:
			return nil, fmt.Errorf("%s (seed %d): %w", j.sc.name(), c.Seed, j.err)
		default:
			rep.Rows = append(rep.Rows, j.rows...)
			rep.Skipped = append(rep.Skipped, j.sc.skipped...)
		}
	}
	names := make([]string, len(c.Workloads))
	for i, w := range c.Workloads {
		names[i] = w.Name
	}
	sortRows(rep.Rows, names)
	rep.Summary = Summarize(rep.Rows)
	rep.Targets = Judge(rep.Rows)
	return rep, nil
}

// scenario is one part, timing corner, erase model and region size; its
// workloads all start from the same populated and synced state.
type scenario struct {
	part       sim.Part
	maxTiming  bool
	timing     string
	eraseModel sim.EraseModel
	model      Model // the floors' model of part, timing and erase model
	size       int64
	seed       uint64
	strategies []string
	skipped    []string // strategies that could not run here, with the reason
}

func newScenario(part sim.Part, timing string, em sim.EraseModel, size int64, c Config) (*scenario, error) {
	sc := &scenario{part: part, maxTiming: timing == "max", timing: timing, eraseModel: em, size: size, seed: c.Seed, strategies: c.Strategies}
	var err error
	if sc.model, err = ModelOf(part, sc.maxTiming, em); err != nil {
		return nil, fmt.Errorf("%s: %w", sc.name(), err)
	}
	return sc, nil
}

// name names the scenario in messages: "mx66l1g45g typical 4k 8MiB".
func (sc *scenario) name() string {
	return fmt.Sprintf("%s %s %v %s", sc.part.Name, sc.timing, sc.eraseModel, hal.FormatSize(sc.size))
}

// geometry is the geometry of a whole chip of the scenario's part under
// its erase model.
func (sc *scenario) geometry() hal.Geometry {
	g, _ := sc.part.GeometryFor(sc.eraseModel) // checked by newScenario
	return g
}

// tally accumulates one strategy's work over a workload's rounds.
type tally struct {
	stats   hal.Stats     // device work, summed over the chips involved
	sim     time.Duration // virtual time on the clock
	cpu     time.Duration
	wear    []int64 // erases per erase block over all rounds
	changed int64
	debt    int64 // erased blocks consumed from the stock (negative: added)
	floor   Cost  // for the rewrite floor only
}

func (t *tally) addWear(delta []int64) {
	if t.wear == nil {
		t.wear = make([]int64, len(delta))
	}
	for i, d := range delta {
		t.wear[i] += d
	}
}

// wearOf returns every block's wear on the chips, concatenated.
func wearOf(chips ...*sim.Flash) []int64 {
	var w []int64
	for _, c := range chips {
		n := c.Geometry().Blocks()
		for b := int64(0); b < n; b++ {
			w = append(w, c.Wear(b))
		}
	}
	return w
}

func statsOf(chips ...*sim.Flash) hal.Stats {
	var s hal.Stats
	for _, c := range chips {
		s = s.Add(c.Stats())
	}
	return s
}

// measure runs fn and adds its work on chips (sharing clock) to t.
func measure(t *tally, clock *sim.Clock, chips []*sim.Flash, st *stock, fn func() error) error {
	e0, err := st.erasedNow()
	if err != nil {
		return err
	}
	w0, s0, c0 := wearOf(chips...), statsOf(chips...), clock.Elapsed()
	stop := threadCPU()
	err = fn()
	cpu := stop()
	if err != nil {
		return err
	}
	c1, s1, w1 := clock.Elapsed(), statsOf(chips...), wearOf(chips...)
	e1, err := st.erasedNow()
	if err != nil {
		return err
	}
	for i := range w1 {
		w1[i] -= w0[i]
	}
	t.debt += debt(e0, e1, w1)
	t.addWear(w1)
	t.stats = t.stats.Add(s1.Sub(s0))
	t.sim += c1 - c0
	t.cpu += cpu
	return nil
}

// readAll reads n bytes at off of f.
func readAll(f hal.Flash, off, n int64) ([]byte, error) {
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		return nil, err
	}
	return b, nil
}

// peer is one in-place copy tool with its own source and destination chips.
type peer struct {
	name     string
	copyFn   func(src, dst hal.Flash, off, size int64) error
	clock    *sim.Clock
	src, dst *sim.Flash
	stock    *stock
	t        tally
}

func (sc *scenario) newChip(clock *sim.Clock, size int64, name string) (*sim.Flash, error) {
	return sim.New(sim.Options{Part: sc.part, Size: size, MaxTiming: sc.maxTiming, EraseModel: sc.eraseModel,
		Clock: clock, Name: name, Seed: sc.seed})
}

func (sc *scenario) run(ctx context.Context, st *regionStates, changes *changeCache, workloads []Workload, progress func(string)) ([]Row, error) {
	env, err := sc.setup(ctx, st)
	if err != nil {
		return nil, err
	}
	if env.skipReason != "" {
		sc.skipped = append(sc.skipped, env.skipReason)
	}
	var rows []Row
	for _, w := range workloads {
		cs, err := changes.get(sc.part, st, w)
		if err != nil {
			return nil, err
		}
		wrows, err := sc.runWorkload(ctx, env, w, cs)
		if err != nil {
			return nil, fmt.Errorf("workload %s: %w", w.Name, err)
		}
		rows = append(rows, wrows...)
		if progress != nil {
			progress(fmt.Sprintf("%s %s: done", sc.name(), w.Name))
		}
	}
	return rows, nil
}

// peerCopies are the in-place copy tools, by strategy name.
var peerCopies = map[string]func(src, dst hal.Flash, off, size int64) error{
	StrategyFullCopy:  FullCopy,
	StrategyBlockDiff: BlockDiff,
	StrategyFlashrom:  Flashrom,
}

// runWorkload resets env to the synced start state and runs w's rounds:
// change the primary's region, then sync with every strategy; it returns
// the rewrite floor's row first, then one row per strategy.
func (sc *scenario) runWorkload(ctx context.Context, env *env, w Workload, cs *changeSet) ([]Row, error) {
	model := sc.model
	// The peers copy the same region, at the same offset within a 64 KiB
	// block as the engine's, so that erase units fall the same way.
	peerOff := env.regionOff % max(sc.part.BlockEraseSize, sc.part.EraseSize)
	if peerOff+sc.size > sc.part.Size {
		peerOff = 0
	}
	if err := env.reset(ctx, w.Filling); err != nil {
		return nil, err
	}
	old := bytes.Clone(cs.start)
	var peers []*peer
	var err error
	for _, s := range sc.strategies {
		fn := peerCopies[s]
		if fn == nil {
			continue
		}
		p := &peer{name: s, copyFn: fn, clock: sim.NewClock(time.Unix(0, 0).UTC())}
		if p.src, err = sc.newChip(p.clock, peerOff+sc.size, "source"); err != nil {
			return nil, err
		}
		if p.dst, err = sc.newChip(p.clock, peerOff+sc.size, "destination"); err != nil {
			return nil, err
		}
		p.src.Poke(peerOff, old)
		p.dst.Poke(peerOff, old) // the destination holds the last synced contents
		p.stock = newStock(p.src, p.dst)
		peers = append(peers, p)
	}
	useEngine := env.engine != nil && slices.Contains(sc.strategies, StrategyEngine)
	var engineT, floorT tally
	var phys PhysicalCost
	for round, rc := range cs.rounds {
		cur := bytes.Clone(old)
		rc.apply(cur)
		rc.poke(env.a, env.regionOff) // what the CMC's services wrote
		fc, err := RewriteFloor(old, cur, model, rc.info)
		if err != nil {
			return nil, err
		}
		floorT.floor = floorT.floor.add(fc)
		floorT.changed += rc.changed
		pc, err := PhysicalFloor(rc.changed, model)
		if err != nil {
			return nil, err
		}
		phys = phys.add(pc)
		if useEngine {
			engineT.changed += rc.changed
			// The idle interval before the round: the engine erases ahead
			// (unmeasured); the round's use of those blocks is charged to
			// its device time through the stock, not to its latency.
			if err := env.engine.idle(ctx); err != nil {
				return nil, fmt.Errorf("round %d: engine idle erase: %w", round, err)
			}
			if err := measure(&engineT, env.clock, []*sim.Flash{env.a, env.b}, env.stock, func() error { return env.engine.round(ctx) }); err != nil {
				return nil, fmt.Errorf("round %d: engine: %w", round, err)
			}
		}
		for _, p := range peers {
			if err := p.sync(round, rc, peerOff, sc.size); err != nil {
				return nil, err
			}
		}
		old = cur
	}
	// The rewrite floor's wear: its erases spread perfectly over as many
	// erase units as the region has.
	units := sc.size / model.EraseSize
	floorT.wear = []int64{(floorT.floor.Erases + units - 1) / units}
	rows := []Row{sc.row(w, StrategyRewriteFloor, floorT)}
	if useEngine {
		rows = append(rows, sc.row(w, StrategyEngine, engineT))
	}
	for _, p := range peers {
		rows = append(rows, sc.row(w, p.name, p.t))
	}
	n := float64(w.Rounds)
	for i := range rows {
		r := &rows[i]
		r.PhysicalFloorSeconds = phys.Device.Seconds() / n
		r.PhysicalFloorLatencySeconds = phys.Latency.Seconds() / n
		if f := rows[0].DeviceSeconds; f > 0 {
			r.VsRewriteFloor = r.DeviceSeconds / f
		}
		if r.PhysicalFloorSeconds > 0 {
			r.VsPhysicalFloor = r.DeviceSeconds / r.PhysicalFloorSeconds
		}
	}
	return rows, nil
}

// sync has the peer bring its destination to the round's contents, and
// checks that the changed sectors arrived.
func (p *peer) sync(round int, rc roundChange, off, size int64) error {
	rc.poke(p.src, off)
	p.t.changed += rc.changed
	if err := measure(&p.t, p.clock, []*sim.Flash{p.src, p.dst}, p.stock, func() error { return p.copyFn(p.src, p.dst, off, size) }); err != nil {
		return fmt.Errorf("round %d: %s: %w", round, p.name, err)
	}
	for _, pt := range rc.patches {
		got, err := readAll(p.dst, off+pt.off, int64(len(pt.data)))
		if err != nil {
			return err
		}
		if !bytes.Equal(got, pt.data) {
			return fmt.Errorf("round %d: %s left the destination different from the source at %#x", round, p.name, pt.off)
		}
	}
	return nil
}

// regionInfo describes the information in cur, the contents of region's
// bytes: the region header and every record are live, the record headers
// are framing (see Info). A record whose header does not decode counts as
// its header alone.
func regionInfo(region *info.Region, cur []byte) Info {
	in := Info{Live: []Range{{0, info.RegionHeaderSize}}}
	for _, t := range info.All() {
		off, capacity := region.Extent(t)
		off -= region.Offset()
		n := int64(info.RecordHeaderSize)
		if h, err := info.DecodeRecordHeader(cur[off : off+info.RecordHeaderSize]); err == nil {
			n = min(n+int64(h.PayloadLen), capacity)
		}
		in.Live = append(in.Live, Range{off, n})
		in.Meta = append(in.Meta, Range{off, info.RecordHeaderSize})
	}
	return in
}
