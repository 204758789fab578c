package engine

import (
	"context"
	"math"
)

// IdleEraseProgress is what one IdleEraseStep did.
type IdleEraseProgress struct {
	Erased  int  // data blocks of the backup's store this step erased
	Journal int  // journal blocks this step erased (or 1 for a compaction)
	Ready   int  // free data blocks known to be erased after it
	Done    bool // nothing left to do until the next round
}

// IdleEraseStep erases, between rounds, what the next round would
// otherwise erase on its critical path: first journal blocks past the
// journal's tail, as many as the last round wrote records into and one
// more (store.EraseJournalAhead, which compacts a journal too full for
// them), then every free data block of the backup's store not known
// erased (store.EraseAhead, an erase window at a time from the allocation
// cursor on), so that a round programs into erased blocks: its erases
// move into the idle time. A block once erased stays known erased until a
// round takes it, so this adds no erase to a block's wear. One step is one
// erase operation (a window or a block), read back for a journal block
// and on NAND (a NOR data block is checked by the round that takes it,
// store.EraseAhead); it holds the
// round lock for that step only, so a round due meanwhile waits for at
// most one erase. Done says there is nothing left to erase.
//
// A step never touches committed data (nor an interrupted round's blocks:
// backupStore purges one first), nor a journal record, and is safe to cut
// by power loss at any point: what it erased is known erased to this
// engine only, and a restarted engine erases those blocks again before
// use. The order of operations is fixed (the tail's and the cursor's
// order), so runs under a virtual clock replay exactly.
func (e *Engine) IdleEraseStep(ctx context.Context) (IdleEraseProgress, error) {
	if err := e.readOnly("idle erase"); err != nil {
		return IdleEraseProgress{}, err
	}
	e.roundMu.Lock()
	defer e.roundMu.Unlock()
	if err := ctx.Err(); err != nil {
		return IdleEraseProgress{}, err
	}
	bk, err := e.backupStore()
	if err != nil {
		return IdleEraseProgress{}, err
	}
	js, err := bk.EraseJournalAhead(bk.JournalBlocksUsed() + 1)
	if err != nil || !js.Done {
		return IdleEraseProgress{Journal: js.Erased}, err
	}
	step, err := bk.EraseAhead(math.MaxInt)
	return IdleEraseProgress{Erased: step.Erased, Ready: step.Ready, Done: step.Done}, err
}

// IdleErase runs IdleEraseStep until it is done or ctx ends, and returns
// the blocks (data and journal) it erased.
func (e *Engine) IdleErase(ctx context.Context) (int, error) {
	n := 0
	for {
		p, err := e.IdleEraseStep(ctx)
		n += p.Erased + p.Journal
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
	for ctx.Err() == nil && e.now().Before(e.scheduled()) {
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
