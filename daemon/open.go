package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// ErrOneChipNew is wrapped by Open's error when one simulated chip's image
// file exists and the other's does not: Open refuses to guess which state
// is right.
var ErrOneChipNew = errors.New("one chip's image file exists and the other's does not")

// Open opens the chips and the engine on them. It formats both chips
// (DefaultConfig, and on simulated chips the simulated CMC's seeded
// content in the primary's information region) when Options.Format is set
// or both chips are new: simulated chips kept in memory, or whose image
// files do not exist yet. It refuses a pair with one new chip
// (ErrOneChipNew) unless Options.Format is set, and chips it did not
// format that hold no engine state (the hint says how to format them).
func Open(ctx context.Context, o Options) (_ *Daemon, err error) {
	d := &Daemon{opts: o}
	specs := [2]flashspec.Spec{o.Primary, o.Backup}
	simulated, fresh := survey(specs)
	d.simulated = simulated
	if fresh == 1 && !o.Format {
		return nil, fmt.Errorf("%w: delete the state folder to start over, or pass --format to format both chips (destroying what the existing one holds)", ErrOneChipNew)
	}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	clock := sim.NewClock(time.Now()) // flash timing of simulated chips (virtual)
	for i, s := range specs {
		f, err := flashspec.Open(s, clock)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", s, err)
		}
		d.chips[i] = f
	}
	opts := engine.Options{Clock: hal.SystemClock{}, Config: DefaultConfig(), Logf: o.EngineLogf,
		PrimaryLock: &d.primaryMu, OnRound: d.scheduled}
	if o.Format || fresh == 2 {
		if err := d.format(&opts); err != nil {
			return nil, err
		}
	}
	d.engine, err = engine.Open(ctx, d.chips[0], d.chips[1], opts)
	if err != nil {
		if !d.formatted {
			return nil, fmt.Errorf("%w (blank or foreign chips? pass --format to format them, destroying their contents)", err)
		}
		return nil, err
	}
	return d, nil
}

// survey reports whether both chips are simulated and how many are new:
// simulated in memory, or simulated with an image file that does not
// exist yet.
func survey(specs [2]flashspec.Spec) (simulated bool, fresh int) {
	simulated = true
	for _, s := range specs {
		if s.Backend != flashspec.Sim {
			simulated = false
			continue
		}
		if s.File == "" {
			fresh++
		} else if _, err := os.Stat(s.File); errors.Is(err, os.ErrNotExist) {
			fresh++
		}
	}
	return simulated, fresh
}

// format formats both chips with the default layout (recorded in opts)
// and, on simulated chips, fills the primary's information region with the
// simulated CMC's seeded content.
func (d *Daemon) format(opts *engine.Options) error {
	layout, err := engine.DefaultLayout(d.chips[0].Geometry(), 0)
	if err != nil {
		return err
	}
	opts.Layout = layout
	var fill func(*info.Region) error
	if d.simulated {
		fill = cmcsim.New(d.opts.Seed).Populate
	}
	if _, err := engine.FormatAndFill(d.chips[0], d.chips[1], *opts, fill); err != nil {
		return err
	}
	d.formatted = true
	return nil
}
