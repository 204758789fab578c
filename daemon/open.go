package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/internal/chipstate"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/internal/shellquote"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// ErrOneChipNew is wrapped by Open's error when one simulated chip's image
// file exists and the other's does not: Open refuses to guess which state
// is right.
var ErrOneChipNew = errors.New("one chip's image file exists and the other's does not")

// ErrCutFormatHoldsData is wrapped by Open's error when the state folder
// says a format was cut (MarkerFile) but a chip holds committed data: Open
// formats nothing then.
var ErrCutFormatHoldsData = errors.New("a format was cut, but a chip holds committed data")

// Open opens the chips and the engine on them, and the history in the
// state folder. It formats both chips (DefaultConfig, and on simulated
// chips the simulated CMC's seeded content in the primary's information
// region) when Options.Format is set or both chips are new: simulated
// chips kept in memory, or whose image files do not exist yet.
//
// A plain start on chips (real or simulated) whose store ranges hold a
// cmcsync format intent (store.Probe: a format cut before its end) and no
// data a format would destroy formats again by itself too; chips holding
// a committed generation or foreign data are never formatted without
// Options.Format.
//
// Formatting simulated chips is power-safe: the format-in-progress marker
// (MarkerFile) is written durably to the state folder before any image
// file is created, and removed once the engine has opened the formatted
// pair; image files are created at their full size atomically (sim). A
// plain start that finds the marker formats again by itself, unless a
// chip holds committed data (a generation after the format's 0), which it
// never touches (ErrCutFormatHoldsData).
//
// It refuses a pair with one new chip (ErrOneChipNew) unless Options.Format
// is set or the marker says a format was cut, and chips it did not format
// that hold no engine state (the hint says how to format them).
func Open(ctx context.Context, o Options) (_ *Daemon, err error) {
	d := &Daemon{opts: o, budget: newTokenBucket(o.Budget, monotonic)}
	d.life, d.stop = context.WithCancel(context.Background())
	// The state folder is this daemon's before anything in it is read or
	// written (the format marker, the history): one daemon per folder.
	if d.stateLock, err = lockStateDir(o.StateDir); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil && d.logbook == nil {
			d.stateLock.Unlock()
		}
	}()
	specs := [2]flashspec.Spec{o.Primary, o.Backup}
	simulated, fresh := survey(specs)
	d.simulated = simulated
	if (o.Faults != nil || o.traceOps != nil) && !simulated {
		return nil, fmt.Errorf("%w: both --primary and --backup must be sim: specs", ErrFaultsNeedSim)
	}
	var marker formatMarker
	if simulated {
		marker.dir = o.StateDir
	}
	cut, err := marker.present()
	if err != nil {
		return nil, err
	}
	if fresh == 1 && !o.Format && !cut {
		return nil, fmt.Errorf("%w: a replaced standby chip? `%s` (or with the --config FILE serve was given; service stopped) formats that chip's store only and syncs it from the active one; otherwise delete the state folder to start over, or pass --format to format BOTH chips (ERASING what the existing one holds)", ErrOneChipNew, shellquote.Join("cmcsync", "reseed", "--primary", specs[0].String(), "--backup", specs[1].String()))
	}
	if d.logbook, err = openLogbook(o.StateDir, o.Logf); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			d.logbook.failedStart(err)
			d.Close()
		}
	}()
	d.logbook.startNote(fmt.Sprintf("daemon started (process %d)", os.Getpid()))
	format := o.Format || fresh == 2 || cut
	// dropMarker: a marker this start set is removed again when the start
	// fails before its format writes, unless both chips are new (nothing
	// on them to keep; a full disk while creating their image files is
	// completed by the next plain start): a --format refused because a
	// chip holds data, an image file of the wrong size, a layout the chips
	// cannot hold must not make the next plain start format chips the
	// user was just told are kept. A marker that was there before (a cut
	// format) stays.
	dropMarker := fresh < 2
	if format {
		if err := marker.set(); err != nil {
			return nil, err
		}
		if !cut {
			defer func() {
				if err != nil && dropMarker {
					err = errors.Join(err, marker.clear())
				}
			}()
		}
	}
	if err := d.openChips(specs); err != nil {
		return nil, diskFullHint(err)
	}
	opts := engine.Options{Clock: d.clock, Wall: time.Now, Config: DefaultConfig(), Logf: d.engineLine,
		PrimaryLock: &d.primaryMu, OnRound: d.scheduled, IdleErase: true}
	if err := d.placeChips(specs, &opts, format); err != nil {
		return nil, err
	}
	if o.Format {
		if err := chipstate.CheckFormat([]chipstate.Chip{
			{Name: "primary", Spec: o.Primary.String(), Flash: d.raw[0], Force: o.Force[0]},
			{Name: "backup", Spec: o.Backup.String(), Flash: d.raw[1], Force: o.Force[1]},
		}, opts.Layout, "--format"); err != nil {
			dropMarker = true
			return nil, err
		}
	}
	if cut && !o.Format {
		if err := d.checkCutFormat(); err != nil {
			return nil, err
		}
		d.logf("the last format was cut (%s in the state folder): formatting again", MarkerFile)
		d.logbook.note("format", "the last format was cut: formatting again")
	}
	if format {
		dropMarker = false
		if err := d.format(&opts); err != nil {
			return nil, diskFullHint(err)
		}
	}
	if !format && d.formatWasCut() {
		// The chips' own format intent says a format was cut and
		// nothing would be lost: finish it, as with the marker. (The
		// engine may open such a pair, with a store on one chip only,
		// but no round could commit on it.)
		d.logf("the chips hold a format cut before its end: formatting again")
		d.logbook.note("format", "the chips hold a cut format: formatting again")
		if err := marker.set(); err != nil {
			return nil, err
		}
		format = true
		if err := d.format(&opts); err != nil {
			return nil, diskFullHint(err)
		}
	}
	d.engine, err = engine.Open(ctx, d.chips[0], d.chips[1], opts)
	if err != nil {
		if !d.formatted {
			return nil, fmt.Errorf("%w (blank or foreign chips? pass --format to format them, destroying their contents)", err)
		}
		return nil, err
	}
	if format {
		if err := marker.clear(); err != nil {
			return nil, err
		}
	}
	d.region = d.measureRegion()
	d.logbook.mu.Lock()
	d.logbook.current = d.totals
	d.logbook.mu.Unlock()
	d.logbook.setTotals(d.totals()) // with what Open's recovery counted
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

// checkCutFormat is the check before a cut format is redone: it reads
// (never writes) each chip's store range and allows the format only if no
// chip holds data a format would destroy (engine.FormatLosesNothing: each
// range is blank, holds a cut format's intent, or a store of generation
// 0).
// A store holding a committed generation, or a range holding data that is
// not a cmcsync store's, is refused (ErrCutFormatHoldsData): only the
// user's --format formats it.
func (d *Daemon) checkCutFormat() error {
	l := d.layout
	for _, f := range d.chips {
		if err := engine.FormatLosesNothing(f, l); err != nil {
			return fmt.Errorf("%w: %w; formatting nothing (if its data is not needed, pass --format to format both chips, destroying it; else remove %s from the state folder and start again)",
				ErrCutFormatHoldsData, err, MarkerFile)
		}
	}
	return nil
}

// format formats both chips with the layout in opts (placeChips) and, on
// simulated chips, fills the primary's information region with the
// simulated CMC's seeded content. The history's totals start again.
func (d *Daemon) format(opts *engine.Options) error {
	var fill func(*info.Region) error
	if d.simulated {
		fill = cmcsim.New(d.opts.Seed).Populate
	}
	if _, err := engine.FormatAndFill(d.chips[0], d.chips[1], *opts, fill); err != nil {
		return err
	}
	d.formatted = true
	d.logbook.resetTotals()
	d.logbook.note("format", "formatted both chips")
	return nil
}

// regionSizes are the running information region's sizes the page
// quotes: each type's largest payload and the whole region (zero:
// unknown).
type regionSizes struct {
	capacity map[info.Type]int64
	bytes    int64
}

// measureRegion reads the active chip's information region header once
// (under primaryMu, as the CMC writes there); a region that cannot be read
// leaves the sizes unknown.
func (d *Daemon) measureRegion() regionSizes {
	l := d.engine.Layout()
	d.primaryMu.Lock()
	defer d.primaryMu.Unlock()
	region, err := info.OpenRegion(d.engine.Primary(), l.InfoOff, l.InfoSize)
	if err != nil {
		d.logf("information region: %v (the page shows typical sizes)", err)
		return regionSizes{}
	}
	out := regionSizes{capacity: map[info.Type]int64{}, bytes: region.Size()}
	for _, t := range info.All() {
		out.capacity[t] = int64(region.Capacity(t))
	}
	return out
}

// diskFullHint adds what to do to an error caused by a full disk (or a
// file size limit, which a process meets the same way).
func diskFullHint(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EFBIG) {
		return fmt.Errorf("%w (no room for the chips' image files in the state folder: free disk space and start again; the format completes then)", err)
	}
	return err
}

// formatWasCut reports whether the chips themselves say a format was cut
// (engine.FormatWasCut, at the default layout), with no state-folder
// marker to say so: real chips, or a lost state folder.
func (d *Daemon) formatWasCut() bool {
	l, err := engine.DefaultLayout(d.chips[0].Geometry(), 0)
	return err == nil && engine.FormatWasCut(d.chips[0], d.chips[1], l)
}
