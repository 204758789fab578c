package bench

import (
	"fmt"
	"slices"

	"github.com/cmcsync/cmcsync/sim"
)

// Config selects what Run measures. Zero fields take the defaults.
type Config struct {
	// Parts are sim part names (NOR only); default (when Profiles is
	// empty too): w25q256jv, w25q512jv, mx66l1g45g, mt25ql256.
	Parts []string
	// Profiles are parts given by value, e.g. loaded from the part
	// profile files `cmcsync calibrate` writes (sim.LoadProfile), run
	// after Parts. Each must pass CheckProfile.
	Profiles []sim.Part
	// AllowImplausible runs profiles that CheckProfile finds physically
	// implausible (an emulator's, say), with a warning in the report.
	AllowImplausible bool
	// Timings are "typical" and/or "max"; default both.
	Timings []string
	// EraseModels are "4k" and/or "64k" (sim.EraseModel): the erase unit
	// of the Linux MTD layer the chips stand for; default both.
	EraseModels []string
	// Sizes are info region sizes in bytes; default 1, 8 and 32 MiB.
	Sizes []int64
	// Workloads; default DefaultWorkloads().
	Workloads []Workload
	// Strategies to run, by name; the rewrite floor is always computed
	// (every row is compared with it), and so is the physical floor.
	// Default: all.
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

// DefaultEraseModels are the erase models benchmarked by default: all.
func DefaultEraseModels() []string {
	var out []string
	for _, m := range sim.EraseModels() {
		out = append(out, m.String())
	}
	return out
}

// Quick returns the configuration of a short run: MX66L1G45G and
// W25Q256JV at typical timings, both erase models, 1 and 8 MiB regions,
// QuickWorkloads.
func Quick(seed uint64) Config {
	return Config{Parts: []string{"mx66l1g45g", "w25q256jv"}, Timings: []string{"typical"},
		Sizes: []int64{1 << 20, 8 << 20}, Workloads: QuickWorkloads(), Seed: seed}
}

// Validate reports whether c names known parts (NOR), timings, erase
// models, strategies and well-formed sizes and workloads.
func (c Config) Validate() error {
	_, err := c.withDefaults()
	return err
}

// withDefaults fills zero fields and validates.
func (c Config) withDefaults() (Config, error) {
	if len(c.Parts) == 0 && len(c.Profiles) == 0 {
		c.Parts = DefaultParts()
	}
	if len(c.Timings) == 0 {
		c.Timings = []string{"typical", "max"}
	}
	if len(c.EraseModels) == 0 {
		c.EraseModels = DefaultEraseModels()
	}
	if len(c.Sizes) == 0 {
		c.Sizes = DefaultSizes()
	}
	if len(c.Workloads) == 0 {
		c.Workloads = DefaultWorkloads()
	}
	if len(c.Strategies) == 0 {
		c.Strategies = []string{StrategyEngine, StrategyFullCopy, StrategyBlockDiff, StrategyFlashrom}
	}
	if _, _, err := c.resolveParts(); err != nil {
		return c, err
	}
	for _, t := range c.Timings {
		if t != "typical" && t != "max" {
			return c, fmt.Errorf("timing %q: want typical or max", t)
		}
	}
	for _, m := range c.EraseModels {
		if _, err := sim.ParseEraseModel(m); err != nil {
			return c, fmt.Errorf("erase model: %w", err)
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
		if s == StrategyRewriteFloor || !slices.Contains(Strategies(), s) {
			return c, fmt.Errorf("unknown strategy %q (known: %s, %s, %s, %s; the floors are always computed)", s,
				StrategyEngine, StrategyFullCopy, StrategyBlockDiff, StrategyFlashrom)
		}
	}
	return c, nil
}

// ModelOf returns the floor model of part p under erase model em at
// typical or maximum timings.
func ModelOf(p sim.Part, maxTiming bool, em sim.EraseModel) (Model, error) {
	unit, err := p.EraseUnit(em)
	if err != nil {
		return Model{}, err
	}
	t := p.Typical
	if maxTiming {
		t = p.Max
	}
	return Model{EraseSize: unit, PageSize: p.PageSize, UnitErase: t.UnitErase(em), PageProgram: t.PageProgram,
		CommandOverhead: t.CommandOverhead, ReadBytesPerSec: t.ReadBytesPerSec}, nil
}
