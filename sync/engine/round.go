package engine

import (
	"context"
	"time"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// roundCtx is the state of one round.
type roundCtx struct {
	rep       *RoundReport
	primary   *timedPrimary
	bk        *store.Store
	cfg       Config
	hdr       info.ImageHeader
	lastProbe time.Time
	recOffs   []int64 // chip offsets of the round's record headers
}

// Round runs one sync round now (steps 1, 3, 4 and 6 of the method): probe
// the primary; collect the round's group of chosen types from its
// information region; write the chunks whose digests changed since the last
// committed generation (intent first, then data, then the commit record),
// probing the primary between writes. On an anomaly the round is
// interrupted and handled as the method says (see RoundReport.Outcome). The
// error is nil for committed, nothing-changed, interrupted and failover
// rounds; it is ErrUpgradePending, a context error or a flash error
// otherwise.
func (e *Engine) Round(ctx context.Context) (RoundReport, error) {
	e.lockRound()
	defer e.unlockRound()
	return e.round(ctx, NoChoice)
}

// lockRound takes the locks a round holds: the engine's op lock, then
// Options.PrimaryLock. unlockRound releases them and wakes Run, whose
// schedule the round may have moved.
func (e *Engine) lockRound() {
	e.op.Lock()
	if l := e.opts.PrimaryLock; l != nil {
		l.Lock()
	}
}

func (e *Engine) unlockRound() {
	if l := e.opts.PrimaryLock; l != nil {
		l.Unlock()
	}
	e.op.Unlock()
	e.kick()
}

func (e *Engine) round(ctx context.Context, choice UpgradeChoice) (RoundReport, error) {
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
