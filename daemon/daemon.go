package daemon

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/web"
)

// Options configure a Daemon.
type Options struct {
	// Primary and Backup name the two chips (internal/flashspec syntax).
	Primary, Backup flashspec.Spec
	// Format formats both chips before opening, destroying what they
	// hold. Without it only new chips are formatted: see Open.
	Format bool
	// Seed seeds the simulated CMC's content and activity and the images
	// of simulated upgrades.
	Seed uint64
	// CMCStep is how often the simulated CMC changes the primary's
	// information while Run runs; 0 never. Only on simulated chips.
	CMCStep time.Duration
	// Logf receives the daemon's own lines and EngineLogf the engine's
	// event lines; nil discards them.
	Logf, EngineLogf func(format string, a ...any)
}

// DefaultConfig is the sync configuration written when the daemon formats
// chips: every type, a round every 30 s (so the page shows a live system),
// a 2 s response-time threshold, read-back verify on.
func DefaultConfig() engine.Config {
	c := engine.DefaultConfig()
	c.Interval = 30 * time.Second
	c.Verify = true
	return c
}

// RoundRecorder receives the rounds the daemon runs on its own: the
// scheduled ones and those of upgrade choices and simulated upgrades made
// through Backend. A web.Server is one.
type RoundRecorder interface {
	RecordRound(web.Round)
}

// Daemon is the engine over two opened chips. Its methods are safe for
// concurrent use.
type Daemon struct {
	engine    *engine.Engine
	chips     [2]hal.Flash
	simulated bool // both chips are simulated: the CMC and upgrades can be simulated
	formatted bool // formatted by Open
	opts      Options

	// primaryMu serializes what writes or reads the primary's
	// information region: rounds and upgrade choices (the engine takes it:
	// engine.Options.PrimaryLock), the simulated CMC and simulated
	// upgrades.
	primaryMu sync.Mutex

	mu           sync.Mutex
	bytesWritten int64 // by every round since Open
	upgrades     int   // simulated upgrades so far
	recorder     RoundRecorder
}

// Simulated reports whether both chips are simulated, so the CMC and image
// upgrades can be simulated.
func (d *Daemon) Simulated() bool { return d.simulated }

// Formatted reports whether Open formatted the chips.
func (d *Daemon) Formatted() bool { return d.formatted }

// Status returns the engine's status.
func (d *Daemon) Status() engine.Status { return d.engine.Status() }

// BytesWritten returns the bytes every round since Open wrote.
func (d *Daemon) BytesWritten() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.bytesWritten
}

// SetRecorder sets where the rounds the daemon runs on its own are
// reported (nil: nowhere). Set it before Run.
func (d *Daemon) SetRecorder(r RoundRecorder) {
	d.mu.Lock()
	d.recorder = r
	d.mu.Unlock()
}

// record reports a round to the recorder, if any.
func (d *Daemon) record(rep engine.RoundReport, err error) {
	d.mu.Lock()
	r := d.recorder
	d.mu.Unlock()
	if r != nil {
		r.RecordRound(webRound(rep, err))
	}
}

// Close closes both chips. The daemon must not be used afterwards.
func (d *Daemon) Close() error {
	var errs []error
	for _, f := range d.chips {
		if f != nil {
			if err := hal.Close(f); err != nil {
				errs = append(errs, fmt.Errorf("close %s: %w", f.Geometry().Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

func (d *Daemon) logf(format string, a ...any) {
	if d.opts.Logf != nil {
		d.opts.Logf(format, a...)
	}
}
