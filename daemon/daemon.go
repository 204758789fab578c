package daemon

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/internal/chipstate"
	"github.com/cmcsync/cmcsync/internal/devlock"
	"github.com/cmcsync/cmcsync/internal/failhook"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/web"
)

// Options configure a Daemon.
type Options struct {
	// Primary and Backup name the two chips (internal/flashspec syntax).
	Primary, Backup flashspec.Spec
	// StateDir is the state folder (it must exist): the history log and,
	// on simulated chips, the format-in-progress marker live there. ""
	// keeps the history in memory only and formats without a marker.
	StateDir string
	// Format formats both chips before opening, destroying what they
	// hold. Without it only new chips are formatted: see Open. A chip
	// that holds anything (a store, a region header of any size, any byte
	// that is not erased) is formatted only if Force names it; else Open
	// refuses (an error wrapping chipstate.ErrRefused).
	Format bool
	// Force names the chips (primary, backup) Format may erase data on.
	Force [2]bool
	// Places put the information region and the store on the chips and
	// name the image identity source (chipstate.Places, resolved by
	// chipstate.PairLayout as every command resolves them). Zero: the
	// defaults, engine.DefaultLayout with cmcsync's generated image at
	// offset 0 (chips it formats whole, the simulator), the region's size
	// read from its header. With Info and Store (partitions of real chips
	// by name, or OFF+SIZE) nothing is ever written outside the region
	// and the store.
	Places chipstate.Places
	// Seed seeds the simulated CMC's content and activity and the images
	// of simulated upgrades.
	Seed uint64
	// CMCStep is how often the simulated CMC changes the primary's
	// information while Run runs; 0 never. Only on simulated chips.
	CMCStep time.Duration
	// Pace makes simulated chips take their datasheet time in real time
	// (and a fault's delay wait it out); without it that time advances
	// the engine's clock at once (see flashClock).
	Pace bool
	// Faults, if set, is injected into the two chips (the primary as
	// faults.Primary, the backup as faults.Backup), counting operations
	// from the first one Open makes. Both chips must be simulated
	// (ErrFaultsNeedSim).
	Faults *faults.Schedule
	// OnPowerCut is called once, from the goroutine of the operation,
	// when Faults cuts the power (a cut or a torn operation). cmcsync
	// serve ends its process there (SIGKILL), so the image files hold
	// what the chips held. nil: the chips stay powered off and every
	// later operation fails with hal.ErrPowerLoss.
	OnPowerCut func()
	// ScrubEvery is how often Run scrubs the backup: a pass of the
	// engine's incremental scrub over every committed chunk (Scrub); 0
	// never. The first pass runs when Run starts.
	ScrubEvery time.Duration
	// Budget bounds the flash writes the API can cause (zero:
	// DefaultBudget).
	Budget Budget
	// CMCOnRealChips runs the simulated CMC (CMCStep) on real chips too:
	// for test rigs (the emulated BMC), it writes the primary's
	// information region as a CMC's services would.
	CMCOnRealChips bool
	// Logf receives the daemon's own lines and EngineLogf the engine's
	// event lines; nil discards them.
	Logf, EngineLogf func(format string, a ...any)

	// OnFailover, if set, runs once after each failover of the engine,
	// off the round's goroutine (see failedOver); nil: a failover changes
	// nothing but the role record.
	OnFailover failhook.Action

	// onFailoverDone, if set, sees each result of OnFailover after it is
	// in the history; for tests.
	onFailoverDone func(failhook.Result)
	// traceOps, if set, sees every chip operation before it runs (the
	// chips are then wrapped by a fault injector even without Faults);
	// for tests.
	traceOps faults.Trace
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
	raw       [2]hal.Flash     // the chips as opened (Close closes them)
	chips     [2]hal.Flash     // as the engine sees them (wrapped for pacing and faults)
	simChips  [2]*sim.Flash    // the simulated chips below, nil for real ones
	backing   [2]*backing      // the chips' image files or device nodes, nil for chips in memory
	layout    engine.Layout    // where the engine lives on both chips (placeChips)
	clock     *flashClock      // the engine's clock
	injector  *faults.Injector // nil without Options.Faults
	simulated bool             // both chips are simulated: the CMC and upgrades can be simulated
	formatted bool             // formatted by Open
	opts      Options
	logbook   *logbook
	budget    *tokenBucket
	region    regionSizes // of the information region, read once at Open

	// life is the daemon's own context: rounds run under it, not under
	// the context of the request that asked for them, so only a shutdown
	// (stop) interrupts them (see schedule.go).
	life context.Context
	stop context.CancelFunc

	// primaryMu serializes what writes or reads the primary's
	// information region: rounds and upgrade choices (the engine takes it:
	// engine.Options.PrimaryLock), the simulated CMC and simulated
	// upgrades. While it is held the engine's clock counts real time in
	// full (see flashClock).
	primaryMu clockedLock
	// configMu serializes configuration changes (SetConfig).
	configMu sync.Mutex
	// choiceMu makes an API upgrade choice's check that an upgrade is
	// pending and the choice's round one step (backend.Upgrade), so that
	// of two choices sent at once only the first runs.
	choiceMu sync.Mutex

	mu           sync.Mutex
	bytesWritten int64 // by every round since Open
	upgrades     int   // simulated upgrades so far
	recorder     RoundRecorder

	hooks  sync.WaitGroup // failover actions running (failedOver)
	hookMu sync.Mutex     // runs them one at a time

	stateLock *devlock.Locks // the state folder's (LockFile), released last by Close
}

// Simulated reports whether both chips are simulated, so the CMC and image
// upgrades can be simulated.
func (d *Daemon) Simulated() bool { return d.simulated }

// Formatted reports whether Open formatted the chips.
func (d *Daemon) Formatted() bool { return d.formatted }

// Status returns the engine's status.
func (d *Daemon) Status() engine.Status { return d.engine.Status() }

// StalledFor is how long what holds the chips now — a round (also one
// asked for through the API, an upgrade choice, a failback), a step of the
// simulated CMC, a scrub step — has gone without a flash operation on
// either chip returning; 0 when nothing holds them. A round on slow chips
// may hold them for many minutes (a failover restore of a whole region),
// but each of its operations returns within seconds; a holder stalled far
// longer hangs on a flash operation that never returns, which cmcsync
// serve's watchdog turns into a restart.
func (d *Daemon) StalledFor() time.Duration { return d.primaryMu.stalledFor() }

// BytesWritten returns the bytes every round since Open wrote.
func (d *Daemon) BytesWritten() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.bytesWritten
}

// SetRecorder sets where the rounds the daemon runs on its own are
// reported (nil: nowhere), and hands it the rounds the history kept from
// before this start, oldest first. Set it before Run.
func (d *Daemon) SetRecorder(r RoundRecorder) {
	d.mu.Lock()
	d.recorder = r
	d.mu.Unlock()
	if r != nil {
		for _, round := range d.logbook.pastRounds() {
			r.RecordRound(round)
		}
	}
}

// record reports a round to the recorder, if any.
func (d *Daemon) record(round web.Round) {
	d.mu.Lock()
	r := d.recorder
	d.mu.Unlock()
	if r != nil {
		r.RecordRound(round)
	}
}

// Close stops what runs under the daemon's context, notes the stop in the
// history and closes the history and both chips. The daemon must not be
// used afterwards.
func (d *Daemon) Close() error {
	var errs []error
	if d.stop != nil {
		d.stop()
	}
	d.hooks.Wait() // a failover action's result belongs in the history
	if d.logbook != nil {
		d.logbook.stopNote()
		if err := d.logbook.close(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, f := range d.raw {
		if f != nil {
			if err := hal.Close(f); err != nil {
				errs = append(errs, fmt.Errorf("close %s: %w", f.Geometry().Name, err))
			}
		}
	}
	if err := d.closeBackings(); err != nil {
		errs = append(errs, fmt.Errorf("close the chips' watch: %w", err))
	}
	if err := d.stateLock.Unlock(); err != nil {
		errs = append(errs, fmt.Errorf("state folder lock: %w", err))
	}
	return errors.Join(errs...)
}

func (d *Daemon) logf(format string, a ...any) {
	if d.opts.Logf != nil {
		d.opts.Logf(format, a...)
	}
}
