package engine

import (
	"context"

	"github.com/cmcsync/cmcsync/sync/store"
)

// IdleEraseProgress is what one IdleEraseStep did.
type IdleEraseProgress struct {
	Erased int  // data blocks of the backup's store this step erased
	Ready  int  // free data blocks known to be erased after it
	Done   bool // nothing left to do until the next round
}

// minIdleReady is the fewest erased blocks the idle erase keeps ready: one
// 64 KiB erase window of 4 KiB blocks.
const minIdleReady = 16

// IdleEraseStep erases, between rounds, free data blocks of the backup's
// store that the next rounds will program (store.EraseAhead: the next
// wholly free erase window from the allocation cursor on), so that a
// round programs them without waiting for their erase: erases move off
// the rounds' critical path into the idle time. One step is one erase
// operation (a window or a block) and its read-back; it holds the round
// lock for that step only, so a round due meanwhile waits for at most one
// erase. Steps keep as many blocks ready as the last round took (at least
// one window); Done says there is nothing left to erase.
//
// A step never touches committed data (nor an interrupted round's blocks:
// backupStore purges one first) and is safe to cut by power loss at any
// point: what it erased is known erased to this engine only, and a
// restarted engine erases those blocks again before use. The order of
// operations is fixed (the cursor's order), so runs under a virtual clock
// replay exactly.
func (e *Engine) IdleEraseStep(ctx context.Context) (IdleEraseProgress, error) {
	e.roundMu.Lock()
	defer e.roundMu.Unlock()
	if err := ctx.Err(); err != nil {
		return IdleEraseProgress{}, err
	}
	bk, err := e.backupStore()
	if err != nil {
		return IdleEraseProgress{}, err
	}
	step, err := bk.EraseAhead(max(e.idleWant, minIdleReady))
	return IdleEraseProgress{Erased: step.Erased, Ready: step.Ready, Done: step.Done}, err
}

// IdleErase runs IdleEraseStep until it is done or ctx ends, and returns
// the data blocks it erased.
func (e *Engine) IdleErase(ctx context.Context) (int, error) {
	n := 0
	for {
		p, err := e.IdleEraseStep(ctx)
		n += p.Erased
		if err != nil || p.Done {
			return n, err
		}
	}
}

// idleEraseUntilDue runs idle erase steps after a scheduled round (Run,
// with Options.IdleErase) until there is nothing to erase, the next round
// is due, something woke Run (the wake-up is kept for it) or ctx ends. A
// failed step is logged and ends the idle work: the rounds erase as they
// need.
func (e *Engine) idleEraseUntilDue(ctx context.Context) {
	for ctx.Err() == nil && e.clock.Now().Before(e.scheduled()) {
		select {
		case <-e.wake:
			e.kick() // for Run
			return
		default:
		}
		p, err := e.IdleEraseStep(ctx)
		if err != nil {
			if ctx.Err() == nil {
				e.logf("idle erase: %v", err)
			}
			return
		}
		if p.Done {
			return
		}
	}
}

// noteRoundBlocks records how many data blocks a round took (its intent's
// blocks): the idle erase keeps that many ready for the next one.
func (e *Engine) noteRoundBlocks(r *store.Round) {
	e.idleWant = len(r.Blocks())
}
