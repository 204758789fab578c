package daemon

import (
	"context"
	"errors"
	"sync"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// Run runs rounds when they are due (engine.Run) and, on simulated chips
// with Options.CMCStep set, the simulated CMC, until ctx is done; it
// returns nil then, or the error that makes the chips unusable (power
// loss, closed). Every scheduled round goes to the recorder (SetRecorder).
func (d *Daemon) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	if d.simulated && d.opts.CMCStep > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.simulateCMC(ctx, d.opts.CMCStep)
		}()
	}
	err := d.engine.Run(ctx)
	stopped := ctx.Err() != nil
	cancel()
	wg.Wait()
	if stopped {
		return nil
	}
	return err
}

// SyncNow runs one round at once, waiting for a round in progress first.
// It returns engine.ErrUpgradePending while an upgrade waits for the
// user's choice.
func (d *Daemon) SyncNow(ctx context.Context) (engine.RoundReport, error) {
	rep, err := d.engine.Round(ctx)
	d.account(rep)
	return rep, err
}

// Upgrade applies the user's choice after an image upgrade and syncs at
// once (engine.UpgradeRound).
func (d *Daemon) Upgrade(ctx context.Context, choice engine.UpgradeChoice) (engine.RoundReport, error) {
	rep, err := d.engine.UpgradeRound(ctx, choice)
	d.account(rep)
	return rep, err
}

func (d *Daemon) account(rep engine.RoundReport) {
	d.mu.Lock()
	d.bytesWritten += rep.BytesWritten
	d.mu.Unlock()
}

// scheduled receives every round engine.Run ran (engine.Options.OnRound).
func (d *Daemon) scheduled(rep engine.RoundReport, err error) {
	d.account(rep)
	d.record(rep, err)
	switch {
	case err == nil, errors.Is(err, engine.ErrUpgradePending):
		// Waits for the user's choice; the status says so.
	case errors.Is(err, hal.ErrPowerLoss), errors.Is(err, hal.ErrClosed):
		// Run returns it.
	default:
		d.logf("round failed: %v (retrying in %v)", err, d.engine.Config().Interval)
	}
}
