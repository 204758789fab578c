package engine

import (
	"context"
	"fmt"
)

// recover purges interrupted rounds on both chips and reinitialises the
// configuration; it finishes a pending failover restore.
func (e *Engine) recover(ctx context.Context, atOpen bool) error {
	var firstErr error
	for i, s := range e.stores {
		if s == nil {
			continue
		}
		in := s.Interrupted()
		if in == nil {
			continue
		}
		if atOpen {
			e.event(EventRecovery, in.Generation, fmt.Sprintf("interrupted round of generation %d found on %s (%d blocks)", in.Generation, e.chips[i].Geometry().Name, len(in.Blocks)))
			e.mu.Lock()
			e.counters.Recoveries++
			e.mu.Unlock()
		}
		if err := e.purgeAndReinit(s, in); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	e.refreshNewestState()
	if e.role.RestorePending {
		if err := e.restoreActive(); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}
