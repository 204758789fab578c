package engine

import (
	"context"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// roundState is the state of one round: its report, the primary it reads
// (timed), the backup store it writes, its configuration, and what the
// probes compare against (the image header the round started with, the
// offsets of the round's record headers, the time of the last probe).
type roundState struct {
	report        *RoundReport
	primary       *timedPrimary
	backup        *store.Store
	config        Config
	header        info.ImageHeader
	lastProbe     time.Time
	recordOffsets []int64 // chip offsets of the round's record headers
	// writesSinceAnswer counts the chunk writes since the last probe the
	// primary answered correctly (RoundReport.WritesAfterAnomaly).
	writesSinceAnswer int
}

// newRoundState starts the state of a round that reads primary (each read
// timed against cfg's threshold) and writes to the backup store.
func (e *Engine) newRoundState(rep *RoundReport, primary hal.Flash, backup *store.Store, cfg Config) *roundState {
	return &roundState{report: rep, primary: &timedPrimary{Flash: primary, clock: e.clock, threshold: cfg.Threshold}, backup: backup, config: cfg}
}

// Round runs one sync round now: the collect, sync and monitor steps of
// the method (docs/DESIGN.md, The method) and, on an anomaly, the
// interrupt, wait-response, failover, purge and reinit steps. It probes
// the primary; collects the round's group of chosen types from its
// information region; writes the chunks whose digests changed since the
// last committed generation (intent first, then data, then the commit
// record), probing the primary between writes. On an anomaly the round is
// interrupted and handled as the method says (see RoundReport.Outcome). The
// error is nil for committed, nothing-changed, interrupted and failover
// rounds; it is ErrUpgradePending, a context error or a flash error
// otherwise.
func (e *Engine) Round(ctx context.Context) (RoundReport, error) {
	if err := e.readOnly("round"); err != nil {
		return RoundReport{}, err
	}
	e.lockRound()
	defer e.unlockRound()
	return e.round(ctx, NoChoice)
}

// lockRound takes the locks a round holds: the engine's round lock
// (roundMu), then Options.PrimaryLock. unlockRound releases them and wakes Run, whose
// schedule the round may have moved.
func (e *Engine) lockRound() {
	e.roundMu.Lock()
	if l := e.opts.PrimaryLock; l != nil {
		l.Lock()
	}
}

func (e *Engine) unlockRound() {
	if l := e.opts.PrimaryLock; l != nil {
		l.Unlock()
	}
	e.roundMu.Unlock()
	e.kick()
}

// round is Round with the locks held; choice is the upgrade choice of
// an upgrade round, NoChoice for a scheduled one.
func (e *Engine) round(ctx context.Context, choice UpgradeChoice) (RoundReport, error) {
	if choice == NoChoice && e.restoreMarked() {
		return e.completeRestore(ctx)
	}
	e.countRound()
	p, rep, err := e.prepare(ctx, choice)
	if p == nil {
		return rep, err
	}
	return e.apply(ctx, p, true)
}

// countRound counts a round (Counters.Rounds): Round counts each, and so
// does a Prepare that ends the round or an Apply.
func (e *Engine) countRound() {
	e.mu.Lock()
	e.counters.Rounds++
	e.mu.Unlock()
}
