package reference_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// pair produces stores the way the product does: two simulated chips on
// one virtual clock, formatted by the engine, the primary's information
// written by the seeded CMC generator, rounds run by the real engine.
// Tests only use it to make inputs; the decoder under test never sees it.
type pair struct {
	t      testing.TB
	ctx    context.Context
	clock  *sim.Clock
	chips  [2]*sim.Flash
	layout engine.Layout
	opts   engine.Options
	region *info.Region
	gen    *cmcsim.Generator
	eng    *engine.Engine
}

const (
	chipSize   = 8 << 20
	regionSize = 1 << 20
)

func newPair(t testing.TB, seed uint64) *pair {
	t.Helper()
	return newPairOn(t, seed, "mx66l1g45g", chipSize)
}

// newPairOn is newPair on two chips of the named part and size.
func newPairOn(t testing.TB, seed uint64, partName string, size int64) *pair {
	t.Helper()
	p := &pair{t: t, ctx: context.Background(), clock: simtest.NewClock()}
	p.chips[0], p.chips[1] = simtest.Pair(t, partName, sim.Options{Size: size, Clock: p.clock, Seed: seed})
	// The region holds a change-table block per type beside the payloads:
	// on 128 KiB erase blocks 1 MiB is too small, 16 blocks are enough.
	var err error
	p.layout, err = engine.DefaultLayout(p.chips[0].Geometry(), max(regionSize, 16*p.chips[0].Geometry().EraseSize))
	require.NoError(t, err)
	// Whole-chunk rounds: the fixtures name records by their place in the
	// journal (deltas are cross-checked by the campaign's hook).
	p.opts = engine.Options{Clock: p.clock, Layout: p.layout, Config: engine.DefaultConfig(), NoDeltas: true}
	require.NoError(t, engine.Format(p.chips[0], p.chips[1], p.opts))
	p.region, err = info.OpenRegion(p.chips[0], p.layout.InfoOff, p.layout.InfoSize)
	require.NoError(t, err)
	p.gen = cmcsim.New(seed)
	require.NoError(t, p.gen.Populate(p.region))
	p.open()
	return p
}

// open starts an engine on the raw chips: a restart, which purges an
// interrupted round and finishes a pending failover.
func (p *pair) open() {
	p.t.Helper()
	var err error
	p.eng, err = engine.Open(p.ctx, p.chips[0], p.chips[1], p.opts)
	require.NoError(p.t, err)
}

// round lets the CMC work for d, then runs one round.
func (p *pair) round(d time.Duration) engine.RoundReport {
	p.t.Helper()
	if d > 0 {
		require.NoError(p.t, p.gen.Step(p.region, d))
	}
	rep, err := p.eng.Round(p.ctx)
	require.NoError(p.t, err)
	return rep
}

// faultedRound lets the CMC work for d, then runs one round on chips
// wrapped by an injector of the schedule (armed once the engine is open):
// a power cut leaves an interrupted round, a delay on the primary a
// failover. The engine is dropped afterwards; call open to restart.
func (p *pair) faultedRound(d time.Duration, schedule string) {
	p.t.Helper()
	if d > 0 {
		require.NoError(p.t, p.gen.Step(p.region, d))
	}
	s, err := faults.ParseSchedule(schedule)
	require.NoError(p.t, err)
	in := faults.NewInjector(s, faults.Options{SplitPages: true, BlockEraseSize: 64 << 10, Clock: p.clock, Disarmed: true})
	e, err := engine.Open(p.ctx, in.Wrap(p.chips[0], faults.Primary), in.Wrap(p.chips[1], faults.Backup), p.opts)
	require.NoError(p.t, err)
	in.Arm()
	_, _ = e.Round(p.ctx)
	require.NoError(p.t, in.Err())
	require.NotEmpty(p.t, in.Fired(), "schedule %s fired nothing (%d operations)", schedule, in.Ops())
	p.eng = nil
}

// roundOps returns how many flash operations the next round issues (as
// the injector counts them: page programs and block erases one by one),
// leaving the chips as they were.
func (p *pair) roundOps() int64 {
	n, _ := p.roundOpsAndLastWrite()
	return n
}

// roundOpsAndLastWrite is roundOps and the index of the round's last
// program or erase (-1: none): a schedule that fires only at a write after
// it fires nothing.
func (p *pair) roundOpsAndLastWrite() (int64, int64) {
	p.t.Helper()
	snaps := p.snapshot()
	lastWrite := int64(-1)
	in := faults.NewInjector(faults.Schedule{}, faults.Options{SplitPages: true, BlockEraseSize: 64 << 10, Clock: p.clock, Disarmed: true,
		Trace: func(op faults.Op) {
			if op.Kind != faults.Read {
				lastWrite = op.Index
			}
		}})
	e, err := engine.Open(p.ctx, in.Wrap(p.chips[0], faults.Primary), in.Wrap(p.chips[1], faults.Backup), p.opts)
	require.NoError(p.t, err)
	in.Arm()
	_, err = e.Round(p.ctx)
	require.NoError(p.t, err)
	p.restore(snaps)
	return in.Ops(), lastWrite
}

func (p *pair) snapshot() [2]*sim.Snapshot {
	return [2]*sim.Snapshot{p.chips[0].Snapshot(), p.chips[1].Snapshot()}
}

func (p *pair) restore(s [2]*sim.Snapshot) {
	p.chips[0].Restore(s[0])
	p.chips[1].Restore(s[1])
	p.eng = nil
}

// compact forces a compaction of chip i's store with the store's own
// writer (no engine may be running).
func (p *pair) compact(i int) {
	p.t.Helper()
	s, err := store.Open(p.chips[i], p.layout.StoreOff, p.layout.StoreSize, store.Options{})
	require.NoError(p.t, err)
	require.NoError(p.t, s.Compact())
	p.eng = nil
}

// setInterval stages a configuration with another interval.
func (p *pair) setInterval(d time.Duration) {
	p.t.Helper()
	c := p.eng.Config()
	c.Interval = d
	require.NoError(p.t, p.eng.StageConfig(c))
}

// saveInterval commits a configuration with another interval at once
// (its own config-commit record, no data round).
func (p *pair) saveInterval(d time.Duration) {
	p.t.Helper()
	c := p.eng.Config()
	c.Interval = d
	require.NoError(p.t, p.eng.SetConfig(c))
}
