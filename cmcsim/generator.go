package cmcsim

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/cmcsync/cmcsync/sync/info"
)

// TypicalInterval is the sync interval the Generator's rates are defined
// for: in TypicalInterval of activity, Step changes about 1% of the
// region's payload bytes.
const TypicalInterval = 10 * time.Minute

// Ring append rates, per TypicalInterval, as a fraction of the ring's slots:
// power and fan telemetry 1%, node history 0.5%, SEL 0.8%, fault log 0.6%.
// On the standard 8 MiB region that is about 1,620 SEL entries, 200 fault
// entries, 675 power and 675 fan telemetry samples and 196 node samples per
// 10 minutes (a busy 16-node chassis). With rings 80% full this changes
// about 1% of the payload bytes per TypicalInterval.
var ringRate = [...]float64{info.Power: 0.010, info.Fan: 0.010, info.Node: 0.005, info.EventLog: 0.008, info.FaultLog: 0.006}

// Populated rings hold this fraction of their slots.
const populateFill = 0.8

// Other activity, as mean intervals between events.
const (
	nodeChangeEvery  = 20 * time.Minute    // a node power/health change, chassis-wide
	assetChangeEvery = 30 * 24 * time.Hour // a part replaced or an asset tag edited
)

// Epoch is a Generator's virtual time at creation (New).
var Epoch = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// Generator imitates a CMC's services writing the primary information
// region: the SEL and the fault log append entries (overwriting the oldest
// when their ring is full), PSU and fan readings and telemetry move often,
// node information sometimes, asset (FRU) information rarely. One seed
// drives every choice (math/rand/v2 PCG), so the same seed applied to the
// same region produces the same bytes. The generator keeps a virtual clock
// (Now) that Step advances; everything else it needs is read back from the
// region, so it can continue on a region another generator or
// info.Default contents left. A Generator is used by one goroutine at a time.
type Generator struct {
	seed  uint64
	rng   *rand.Rand
	now   time.Time
	carry [info.NumTypes + 1]float64 // fractional ring appends not yet made
}

// New returns a generator seeded with seed, its clock at Epoch.
func New(seed uint64) *Generator {
	return &Generator{seed: seed, rng: rand.New(rand.NewPCG(seed, seed^0x5ca1ab1e0ddba11)), now: Epoch}
}

// Seed returns the seed the generator was created with.
func (g *Generator) Seed() uint64 { return g.seed }

// Now returns the generator's virtual time: Epoch plus every
// duration given to Step.
func (g *Generator) Now() time.Time { return g.now }

// Populate fills every type with realistic contents: populated PSU, fan,
// node and FRU records, and each ring filled to 80% of the slots its extent
// holds, with entries time-stamped backwards from Now at the Step rates. It
// writes each type once through Region.Write.
func (g *Generator) Populate(r *info.Region) error {
	g.carry = [info.NumTypes + 1]float64{}
	for _, t := range info.All() {
		tb := info.NewTable(t, info.RingSlots(t, r.Capacity(t)))
		g.populateFixed(tb)
		n := int(float64(tb.Slots) * populateFill)
		if n > 0 {
			// spacing that matches the Step rate
			span := time.Duration(float64(TypicalInterval) * float64(n) / (ringRate[t] * float64(tb.Slots)))
			start := g.now.Add(-span)
			tb.Ring = make([]byte, 0, n*tb.EntrySize)
			e := make([]byte, tb.EntrySize)
			for i := 0; i < n; i++ {
				at := start.Add(time.Duration(float64(span) * float64(i+1) / float64(n)))
				g.entry(tb, at, e)
				tb.Add(e)
			}
		}
		tb.Updated = unix32(g.now)
		if err := r.Write(t, tb.Encode()); err != nil {
			return fmt.Errorf("populate: %w", err)
		}
	}
	return nil
}

// Step applies d of CMC activity to the region and advances Now by d: for
// each ring, rate × slots × d/TypicalInterval entries appended (fractions
// carry over to the next Step), time-stamped across the interval; PSU and
// fan readings, the energy counter and fan hours updated; node state changes
// (about one per 20 minutes, chassis-wide) and asset changes (about one per
// 30 days) drawn at random. A type whose payload does not change is not
// written. d <= 0 does nothing. An unreadable record (info.ErrCorrupt) or
// a payload that is not in info's table format (info.Table) stops Step with an
// error naming the type; types before it have been written.
func (g *Generator) Step(r *info.Region, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	from := g.now
	g.now = g.now.Add(d)
	for _, t := range info.All() {
		rec, err := r.Read(t)
		if err != nil {
			return fmt.Errorf("step: %w", err)
		}
		tb, err := info.DecodeTable(t, bytes.Clone(rec.Payload)) // tb is changed in place; rec stays what the chip holds
		if err != nil {
			return fmt.Errorf("step: %v record: %w", t, err)
		}
		tb = tb.Resized(info.RingSlots(t, r.Capacity(t)))
		g.stepTable(tb, from, d)
		if err := r.Rewrite(rec, tb.Encode()); err != nil {
			return fmt.Errorf("step: %w", err)
		}
	}
	return nil
}

func (g *Generator) stepTable(tb *info.Table, from time.Time, d time.Duration) {
	t := tb.Type
	changed := false
	if tb.EntrySize > 0 && tb.Slots > 0 {
		want := ringRate[t]*float64(tb.Slots)*float64(d)/float64(TypicalInterval) + g.carry[t]
		n := math.Floor(want)
		g.carry[t] = want - n
		if n > float64(tb.Slots) {
			n = float64(tb.Slots)
		}
		e := make([]byte, tb.EntrySize)
		for i := 0; i < int(n); i++ {
			at := from.Add(time.Duration(float64(d) * float64(i+1) / (n + 1)))
			g.entry(tb, at, e)
			tb.Add(e)
			changed = true
		}
	}
	switch t {
	case info.Power, info.Fan:
		g.moveReadings(tb, d)
		changed = true
	case info.Node:
		for k := g.events(d, nodeChangeEvery); k > 0; k-- {
			g.nodeChange(tb)
			changed = true
		}
	case info.Asset:
		for k := g.events(d, assetChangeEvery); k > 0; k-- {
			i := g.rng.IntN(info.NumFRUs)
			encodeFRU(tb.Fixed[i*info.FRUSize:(i+1)*info.FRUSize], g.fru(i))
			changed = true
		}
	}
	if changed {
		tb.Updated = unix32(g.now)
	}
}

// events returns how many events with the given mean spacing happen in d
// (Poisson, drawn by inversion; capped at 1000).
func (g *Generator) events(d, every time.Duration) int {
	lambda := float64(d) / float64(every)
	if lambda > 50 {
		return min(int(lambda+0.5), 1000)
	}
	u := g.rng.Float64()
	p := math.Exp(-lambda)
	k, cdf := 0, p
	for u > cdf && k < 1000 {
		k++
		p *= lambda / float64(k)
		cdf += p
	}
	return k
}
