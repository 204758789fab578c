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

// Config selects what Run measures. Zero fields take the defaults.
type Config struct {
	// Parts are sim part names (NOR only); default: w25q256jv, w25q512jv,
	// mx66l1g45g, mt25ql256.
	Parts []string
	// Timings are "typical" and/or "max"; default both.
	Timings []string
	// Sizes are info region sizes in bytes; default 1, 8 and 32 MiB.
	Sizes []int64
	// Workloads; default DefaultWorkloads().
	Workloads []Workload
	// Strategies to run, by name; the floor is always computed (every row is
	// compared with it). Default: all.
	Strategies []string
	// Seed drives the generator, the mutations and the simulator.
	Seed uint64
	// Progress, if set, is called once per finished scenario with a short line.
	Progress func(line string)
}

// DefaultParts are the NOR part profiles benchmarked by default.
func DefaultParts() []string { return []string{"w25q256jv", "w25q512jv", "mx66l1g45g", "mt25ql256"} }

// DefaultSizes are the info region sizes benchmarked by default.
func DefaultSizes() []int64 { return []int64{1 << 20, 8 << 20, 32 << 20} }

// Quick returns the configuration of a short run: MX66L1G45G and
// W25Q256JV at typical timings, 1 and 8 MiB regions, QuickWorkloads.
func Quick(seed uint64) Config {
	return Config{Parts: []string{"mx66l1g45g", "w25q256jv"}, Timings: []string{"typical"},
		Sizes: []int64{1 << 20, 8 << 20}, Workloads: QuickWorkloads(), Seed: seed}
}

// Validate reports whether c names known parts (NOR), timings, strategies
// and well-formed sizes and workloads.
func (c Config) Validate() error {
	_, err := c.withDefaults()
	return err
}

// withDefaults fills zero fields and validates.
func (c Config) withDefaults() (Config, error) {
	if len(c.Parts) == 0 {
		c.Parts = DefaultParts()
	}
	if len(c.Timings) == 0 {
		c.Timings = []string{"typical", "max"}
	}
	if len(c.Sizes) == 0 {
		c.Sizes = DefaultSizes()
	}
	if len(c.Workloads) == 0 {
		c.Workloads = DefaultWorkloads()
	}
	if len(c.Strategies) == 0 {
		c.Strategies = []string{StrategyEngine, StrategyFullCopy, StrategyBlockDiff}
	}
	for _, p := range c.Parts {
		part, err := sim.LookupPart(p)
		if err != nil {
			return c, err
		}
		if part.Kind != hal.NOR {
			return c, fmt.Errorf("part %s is %v: the benchmark compares NOR strategies (flashcp, in-place diff); pick a NOR part", p, part.Kind)
		}
	}
	for _, t := range c.Timings {
		if t != "typical" && t != "max" {
			return c, fmt.Errorf("timing %q: want typical or max", t)
		}
	}
	for _, s := range c.Sizes {
		if s <= 0 || s%(64<<10) != 0 {
			return c, fmt.Errorf("region size %d: want a positive multiple of 64 KiB", s)
		}
	}
	for _, w := range c.Workloads {
		if err := w.Validate(); err != nil {
			return c, err
		}
	}
	for _, s := range c.Strategies {
		if !slices.Contains(Strategies(), s) {
			return c, fmt.Errorf("unknown strategy %q (known: %v)", s, Strategies())
		}
	}
	return c, nil
}

// ModelOf returns the floor model of part p at typical or maximum timings.
func ModelOf(p sim.Part, maxTiming bool) Model {
	t := p.Typical
	if maxTiming {
		t = p.Max
	}
	return Model{EraseSize: p.EraseSize, BlockEraseSize: p.BlockEraseSize, PageSize: p.PageSize,
		SectorErase: t.SectorErase, BlockErase: t.BlockErase, PageProgram: t.PageProgram,
		CommandOverhead: t.CommandOverhead, ReadBytesPerSec: t.ReadBytesPerSec}
}

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
	rep := &Report{Seed: c.Seed, Started: time.Now().UTC().Format(time.RFC3339)}
	// Region contents per size, shared by every part (built serially).
	states := map[int64]*regionStates{}
	changes := newChangeCache(c.Seed)
	type job struct {
		sc    *scenario
		st    *regionStates
		rows  []Row
		err   error
		order int
	}
	var jobs []*job
	for _, pn := range c.Parts {
		part, _ := sim.LookupPart(pn)
		for _, timing := range c.Timings {
			for _, size := range c.Sizes {
				st := states[size]
				if st == nil && size <= part.Size {
					if st, err = buildStates(part, size, c.Seed); err != nil {
						return nil, fmt.Errorf("%s region contents (seed %d): %w", hal.FormatSize(size), c.Seed, err)
					}
					states[size] = st
				}
				if st == nil {
					rep.Skipped = append(rep.Skipped, fmt.Sprintf("%s %s %s: the region is larger than the chip", pn, timing, hal.FormatSize(size)))
					continue
				}
				sc := &scenario{part: part, maxTiming: timing == "max", timing: timing, size: size, seed: c.Seed, strategies: c.Strategies}
				jobs = append(jobs, &job{sc: sc, st: st, order: len(jobs)})
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
			return nil, fmt.Errorf("%s %s %s (seed %d): %w", j.sc.part.Name, j.sc.timing, hal.FormatSize(j.sc.size), c.Seed, j.err)
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

// scenario is one part, timing corner and region size; its workloads all
// start from the same populated and synced state.
type scenario struct {
	part       sim.Part
	maxTiming  bool
	timing     string
	size       int64
	seed       uint64
	strategies []string
	skipped    []string // strategies that could not run here, with the reason
}

// tally accumulates one strategy's work over a workload's rounds.
type tally struct {
	stats   hal.Stats     // device work, summed over the chips involved
	sim     time.Duration // virtual time on the clock
	cpu     time.Duration
	wear    []int64 // erases per erase block over all rounds
	changed int64
	debt    int64 // erased blocks consumed from the stock (negative: added)
	floor   Cost  // for the floor only
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
	return sim.New(sim.Options{Part: sc.part, Size: size, MaxTiming: sc.maxTiming, Clock: clock, Name: name, Seed: sc.seed})
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
			progress(fmt.Sprintf("%s %s %s %s: done", sc.part.Name, sc.timing, hal.FormatSize(sc.size), w.Name))
		}
	}
	return rows, nil
}

// runWorkload resets env to the synced start state and runs w's rounds:
// change the primary's region, then sync with every strategy; it returns
// the floor's row first, then one row per strategy.
func (sc *scenario) runWorkload(ctx context.Context, env *env, w Workload, cs *changeSet) ([]Row, error) {
	model := ModelOf(sc.part, sc.maxTiming)
	// The peers copy the same region, at the same offset within a 64 KiB
	// block so that block erases fall the same way.
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
		var fn func(src, dst hal.Flash, off, size int64) error
		switch s {
		case StrategyFullCopy:
			fn = FullCopy
		case StrategyBlockDiff:
			fn = BlockDiff
		default:
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
	for round, rc := range cs.rounds {
		cur := bytes.Clone(old)
		rc.apply(cur)
		rc.poke(env.a, env.regionOff) // what the CMC's services wrote
		fc, err := Floor(old, cur, model, rc.info)
		if err != nil {
			return nil, err
		}
		floorT.floor = floorT.floor.add(fc)
		floorT.changed += rc.changed
		if useEngine {
			engineT.changed += rc.changed
			if err := measure(&engineT, env.clock, []*sim.Flash{env.a, env.b}, env.stock, func() error { return env.engine.round(ctx) }); err != nil {
				return nil, fmt.Errorf("round %d: engine: %w", round, err)
			}
		}
		for _, p := range peers {
			rc.poke(p.src, peerOff)
			p.t.changed += rc.changed
			if err := measure(&p.t, p.clock, []*sim.Flash{p.src, p.dst}, p.stock, func() error { return p.copyFn(p.src, p.dst, peerOff, sc.size) }); err != nil {
				return nil, fmt.Errorf("round %d: %s: %w", round, p.name, err)
			}
			for _, pt := range rc.patches { // the changed sectors arrived
				got, err := readAll(p.dst, peerOff+pt.off, int64(len(pt.data)))
				if err != nil {
					return nil, err
				}
				if !bytes.Equal(got, pt.data) {
					return nil, fmt.Errorf("round %d: %s left the destination different from the source at %#x", round, p.name, pt.off)
				}
			}
		}
		old = cur
	}
	// The floor's wear: its erases spread perfectly over as many blocks as
	// the region has.
	sectors := sc.size / model.EraseSize
	floorT.wear = []int64{(floorT.floor.Erases + sectors - 1) / sectors}
	rows := []Row{sc.row(w, StrategyFloor, floorT, model)}
	if useEngine {
		rows = append(rows, sc.row(w, StrategyEngine, engineT, model))
	}
	for _, p := range peers {
		rows = append(rows, sc.row(w, p.name, p.t, model))
	}
	for i := range rows {
		if f := rows[0].SimSeconds; f > 0 {
			rows[i].VsFloor = rows[i].SimSeconds / f
		}
	}
	return rows, nil
}

// row turns a tally into a per-round row.
func (sc *scenario) row(w Workload, strategy string, t tally, m Model) Row {
	n := float64(w.Rounds)
	r := Row{Part: sc.part.Name, Timing: sc.timing, RegionSize: sc.size, Workload: w.Name, Strategy: strategy,
		Rounds: w.Rounds, ChangedBytes: float64(t.changed) / n, PageProgramSeconds: m.PageProgram.Seconds()}
	r.ChangePct = r.ChangedBytes / float64(sc.size) * 100
	if strategy == StrategyFloor {
		c := t.floor
		r.SimSeconds = c.Time.Seconds() / n
		r.Erases, r.PagesProgrammed = float64(c.Erases)/n, float64(c.PagesProgrammed)/n
		r.BytesProgrammed, r.BytesRead = float64(c.BytesProgrammed)/n, float64(c.BytesRead)/n
		r.ReadSeconds, r.ProgramSeconds, r.EraseSeconds = c.ReadTime.Seconds()/n, c.ProgramTime.Seconds()/n, c.EraseTime.Seconds()/n
	} else {
		s := t.stats
		r.SimSeconds = t.sim.Seconds() / n
		r.Erases, r.PagesProgrammed = float64(s.Erases)/n, float64(s.PagesProgrammed)/n
		r.BytesProgrammed, r.BytesRead = float64(s.BytesProgrammed)/n, float64(s.BytesRead)/n
		r.HostCPUSeconds = t.cpu.Seconds() / n
		read := time.Duration(s.Reads)*m.CommandOverhead + m.BusTime(s.BytesRead)
		prog := time.Duration(s.PagesProgrammed)*(m.CommandOverhead+m.PageProgram) + m.BusTime(s.BytesProgrammed)
		r.ReadSeconds, r.ProgramSeconds = read.Seconds()/n, prog.Seconds()/n
		r.EraseSeconds = (s.Elapsed - read - prog).Seconds() / n
		r.WaitSeconds = (t.sim - s.Elapsed).Seconds() / n
		if t.debt != 0 {
			// Erased blocks taken from (or left to) the stock, at the
			// cheapest erase rate.
			d := m.erasesFor(t.debt)
			r.StockErases = float64(t.debt) / n
			r.Erases += r.StockErases
			r.EraseSeconds += d.EraseTime.Seconds() / n
			r.SimSeconds += d.EraseTime.Seconds() / n
		}
	}
	if t.changed > 0 {
		r.WriteAmp = r.BytesProgrammed / r.ChangedBytes
	}
	for _, v := range t.wear {
		r.WorstWear = max(r.WorstWear, v)
	}
	return r
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
