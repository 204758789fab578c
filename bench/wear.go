package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// WearBound is the wear target (e): after WearRounds rounds of one sync
// interval of CMC activity, the most-erased erase block of the backup's
// store has been erased at most WearBound times the store's mean.
const (
	WearBound  = 2.0
	WearRounds = 10_000
)

// WearConfig is a wear run: the engine syncs Rounds rounds of Activity of
// simulated CMC activity each, on a region of Size bytes of Part (the
// Timing corner does not change which blocks are erased, only the clock).
type WearConfig struct {
	Part       string        // sim part name; default mx66l1g45g
	Size       int64         // information region bytes; default 8 MiB
	EraseModel string        // "4k" (default) or "64k"
	Rounds     int           // default WearRounds
	Activity   time.Duration // CMC activity per round; default cmcsim.TypicalInterval (cmc-10m)
	Seed       uint64
	// Progress, if set, is called every ProgressEvery rounds.
	Progress      func(done int)
	ProgressEvery int
}

func (c WearConfig) withDefaults() WearConfig {
	if c.Part == "" {
		c.Part = "mx66l1g45g"
	}
	if c.Size == 0 {
		c.Size = 8 << 20
	}
	if c.EraseModel == "" {
		c.EraseModel = sim.Erase4K.String()
	}
	if c.Rounds == 0 {
		c.Rounds = WearRounds
	}
	if c.Activity == 0 {
		c.Activity = cmcsim.TypicalInterval
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = 1000
	}
	return c
}

// WearReport is what a wear run measured on the backup's store: the erases
// of each of its erase blocks (of the erase model's unit) over the measured
// rounds (the setup and the aging of the store into steady state are not
// counted).
type WearReport struct {
	Part        string `json:"part"`
	EraseModel  string `json:"erase_model"`
	RegionBytes int64  `json:"region_bytes"`
	Workload    string `json:"workload"`
	Rounds      int    `json:"rounds"`
	// Committed counts the rounds that committed a new generation (the
	// rest found nothing changed).
	Committed   int     `json:"committed_rounds"`
	StoreBlocks int64   `json:"store_blocks"`
	TotalErases int64   `json:"total_erases"`
	MaxErases   int64   `json:"max_erases"`
	MaxBlock    int64   `json:"max_block"` // the most-erased block (first of them), index in the chip
	MinErases   int64   `json:"min_erases"`
	MeanErases  float64 `json:"mean_erases"`
	// Ratio is MaxErases / MeanErases; the target is met when it is at
	// most BoundRatio. 0 when nothing was erased.
	Ratio      float64 `json:"max_over_mean"`
	BoundRatio float64 `json:"bound_max_over_mean"`
	Met        bool    `json:"met"`
	// SimulatedSeconds is the virtual time the run took (activity and
	// rounds); HostCPUSeconds the process CPU time it took.
	SimulatedSeconds float64 `json:"simulated_seconds"`
	HostCPUSeconds   float64 `json:"host_cpu_seconds"`
}

// Line summarises r on one line.
func (r WearReport) Line() string {
	status := "met"
	if !r.Met {
		status = "MISSED"
	}
	return fmt.Sprintf("wear %s: %d rounds of %s on %s %s %s: max %d erases (block %d), mean %.2f over %d store blocks, max/mean %.3f (bound %.1f)",
		status, r.Rounds, r.Workload, r.Part, r.EraseModel, hal.FormatSize(r.RegionBytes), r.MaxErases, r.MaxBlock, r.MeanErases,
		r.StoreBlocks, r.Ratio, r.BoundRatio)
}

// Target returns r as target (e), gated on the 4k erase model like the
// others.
func (r WearReport) Target() Target {
	t := Target{ID: "e", Name: fmt.Sprintf("most-erased store block ≤ %.0f× the mean after %d %s rounds", r.BoundRatio, r.Rounds, r.Workload),
		EraseModel: r.EraseModel, Gated: r.EraseModel == sim.Erase4K.String(), Met: r.Met, Rows: 1, Unit: UnitRatio,
		Where: fmt.Sprintf("%s/typical/%s/%s/%s", r.Part, r.EraseModel, hal.FormatSize(r.RegionBytes), r.Workload),
		Value: r.Ratio, Bound: r.BoundRatio}
	if r.BoundRatio > 0 {
		t.Worst = r.Ratio / r.BoundRatio
	}
	t.Detail = fmt.Sprintf("max %d erases (block %d) vs mean %.2f over %d store blocks: %.3f× (bound %.1f×) after %d rounds",
		r.MaxErases, r.MaxBlock, r.MeanErases, r.StoreBlocks, r.Ratio, r.BoundRatio, r.Rounds)
	return t
}

// Wear runs the engine for c.Rounds rounds of CMC activity on the bench's
// engine setup (the store brought to steady state first, see env.age),
// advancing the virtual clock by the activity before each round, and
// measures how evenly the rounds' erases spread over the backup's store.
// Every round must commit or find nothing changed.
func Wear(ctx context.Context, c WearConfig) (WearReport, error) {
	c = c.withDefaults()
	part, err := sim.LookupPart(c.Part)
	if err != nil {
		return WearReport{}, err
	}
	em, err := sim.ParseEraseModel(c.EraseModel)
	if err != nil {
		return WearReport{}, err
	}
	if c.Rounds < 1 {
		return WearReport{}, fmt.Errorf("wear: rounds %d, want at least 1", c.Rounds)
	}
	sc, err := newScenario(part, "typical", em, c.Size, Config{Seed: c.Seed, Strategies: []string{StrategyEngine}})
	if err != nil {
		return WearReport{}, err
	}
	states, err := buildStates(part, em, c.Size, c.Seed)
	if err != nil {
		return WearReport{}, err
	}
	env, err := sc.setup(ctx, states)
	if err != nil {
		return WearReport{}, err
	}
	if env.engine == nil {
		return WearReport{}, errors.New("wear: " + env.skipReason)
	}
	layout := env.engine.opts.Layout
	region, err := info.OpenRegion(env.a, env.regionOff, c.Size)
	if err != nil {
		return WearReport{}, err
	}
	gen := cmcsim.New(Activity(c.Activity, 1).seed(c.Seed))
	es := env.b.Geometry().EraseSize
	first, n := layout.StoreOff/es, layout.StoreSize/es
	before := make([]int64, n)
	for i := range before {
		before[i] = env.b.Wear(first + int64(i))
	}
	rep := WearReport{Part: part.Name, EraseModel: em.String(), RegionBytes: c.Size, Workload: Activity(c.Activity, 1).Name,
		Rounds: c.Rounds, StoreBlocks: n, BoundRatio: WearBound}
	t0 := env.clock.Elapsed()
	stop := threadCPU()
	for i := 0; i < c.Rounds; i++ {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if err := gen.Step(region, c.Activity); err != nil {
			return rep, fmt.Errorf("wear: round %d: activity: %w", i, err)
		}
		env.clock.Advance(c.Activity)
		if err := env.engine.round(ctx); err != nil {
			return rep, fmt.Errorf("wear: round %d: %w", i, err)
		}
		if env.engine.last.Outcome == engine.OutcomeCommitted {
			rep.Committed++
		}
		if c.Progress != nil && (i+1)%c.ProgressEvery == 0 {
			c.Progress(i + 1)
		}
	}
	rep.HostCPUSeconds = stop().Seconds()
	rep.SimulatedSeconds = (env.clock.Elapsed() - t0).Seconds()
	rep.MinErases = -1
	for i := range before {
		w := env.b.Wear(first+int64(i)) - before[i]
		rep.TotalErases += w
		if w > rep.MaxErases {
			rep.MaxErases, rep.MaxBlock = w, first+int64(i)
		}
		if rep.MinErases < 0 || w < rep.MinErases {
			rep.MinErases = w
		}
	}
	rep.MeanErases = float64(rep.TotalErases) / float64(n)
	if rep.MeanErases > 0 {
		rep.Ratio = float64(rep.MaxErases) / rep.MeanErases
	}
	rep.Met = rep.TotalErases > 0 && rep.Ratio <= rep.BoundRatio
	return rep, nil
}
