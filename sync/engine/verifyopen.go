package engine

import (
	"context"
	"fmt"
)

// verifyAtOpen reads every committed chunk of the backup store once and
// checks it against its digest, as Scrub does: a chunk damaged while the
// engine was not running (or between its last read-back and the restart:
// retention loss, a disturbed or weakly programmed page that read right
// when it was written) is reported (an EventDamage, Status.Damage and
// Status.ScrubDamage) and the next round rewrites it. Without it, the
// journal says the generation is intact and nothing reads the data until
// the next scrub pass or failover — a round would report success over a
// chunk that fails its digest.
//
// Cost: one read of the committed data (the backup's copy of the
// information region) and its SHA-256, once per Open — not per round.
func (e *Engine) verifyAtOpen(ctx context.Context) error {
	if e.stores[1-int(e.role.Active)] == nil {
		return nil // no backup store to verify (Status reports why)
	}
	rep, err := e.Scrub(ctx)
	if err != nil {
		return fmt.Errorf("verify the backup's committed chunks: %w", err)
	}
	e.mu.Lock()
	e.openScrub = &rep
	e.mu.Unlock()
	for _, b := range rep.Bad {
		d := fmt.Sprintf("%s store: committed chunk %d of type %d (data block %d) of generation %d fails its digest: %s; the next round rewrites it",
			rep.Device, b.Index, b.Type, b.Block, rep.Generation, b.Error)
		e.logf("%s", d)
		e.mu.Lock()
		e.damage = append(e.damage, d)
		e.mu.Unlock()
	}
	return nil
}

// OpenScrub returns the report of the check Open made of every committed
// chunk of the backup, and false if Open made none (no backup store). A
// one-shot caller uses it instead of reading the backup again.
func (e *Engine) OpenScrub() (ScrubReport, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.openScrub == nil {
		return ScrubReport{}, false
	}
	return *e.openScrub, true
}
