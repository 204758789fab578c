package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/cmcsync/cmcsync/sync/store"
)

// ErrReadOnly is wrapped by the error of every engine method that would
// write to a chip (a round, an upgrade, a configuration change, a
// failback, a purge, an idle erase) on an engine opened with
// Options.ReadOnly.
var ErrReadOnly = errors.New("engine opened read-only (for a command that only reads): nothing is written")

// ReadOnlyPending describes a repair that a read-write Open would make
// and a read-only one left undone.
type ReadOnlyPending struct {
	// What the repair is, naming the chip ("an interrupted round of
	// generation 5 on backup (3 blocks) is not purged").
	What string
	// Info: the repair writes the active chip's information region (a
	// failover's restore, a restore-defaults), which reads as neither the
	// old nor the new contents until it is done; an answer read from that
	// region is not to be given.
	Info bool
}

// Pending lists the repairs a read-only Open found needed and did not make
// (nil after a read-write Open, which makes them). The committed
// generation, the configuration and Status are those the repairs would
// leave, except the active chip's information region where a pending
// repair has Info set.
func (e *Engine) Pending() []ReadOnlyPending {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]ReadOnlyPending(nil), e.pending...)
}

// readOnly returns an error wrapping ErrReadOnly for operation op when
// the engine was opened read-only, else nil.
func (e *Engine) readOnly(op string) error {
	if e.opts.ReadOnly {
		return fmt.Errorf("%s: %w", op, ErrReadOnly)
	}
	return nil
}

func (e *Engine) notePending(p ReadOnlyPending) {
	e.logf("read-only open: not repaired: %s", p.What)
	e.mu.Lock()
	e.pending = append(e.pending, p)
	e.mu.Unlock()
}

// recoverReadOnly is recover for a read-only Open: it notes what recover
// would write (the purge of an interrupted round, a failover's restore of
// the information region) instead of writing it. A purge erases only the
// interrupted round's own blocks and leaves the committed generation as
// it is, so what the engine answers from the committed generation is
// what it would answer after the purge.
func (e *Engine) recoverReadOnly() {
	for i, s := range e.stores {
		if s == nil {
			continue
		}
		if in := s.Interrupted(); in != nil {
			e.notePending(ReadOnlyPending{What: fmt.Sprintf("an interrupted round of generation %d on %s, %s (%d blocks), is not purged",
				in.Generation, chipRoles[i], e.chips[i].Geometry().Name, len(in.Blocks))})
		}
	}
	e.refreshNewestState()
	if e.role.RestorePending {
		a := int(e.role.Active)
		e.notePending(ReadOnlyPending{Info: true, What: fmt.Sprintf("a failover's restore of the information region onto the active chip, %s %s, is not finished",
			chipRoles[a], e.chips[a].Geometry().Name)})
	}
}

// stagedAtOpen returns the configuration staged on s, as configAtOpen
// finds it after recovery: on a read-only engine, a store whose
// interrupted round is not purged has none, as the purge drops it
// (purge-then-reinit: back to the committed configuration).
func (e *Engine) stagedAtOpen(s *store.Store) (store.Config, bool) {
	if e.opts.ReadOnly && s.Interrupted() != nil {
		return store.Config{}, false
	}
	return s.Staged()
}

// upgradeAtOpenReadOnly is upgradeAtOpen for a read-only Open: a
// restore-defaults cut short is noted, not completed.
func (e *Engine) upgradeAtOpenReadOnly(ctx context.Context) error {
	if e.restoreMarked() {
		a := int(e.role.Active)
		e.notePending(ReadOnlyPending{Info: true, What: fmt.Sprintf("a restore-defaults of the information region of the active chip, %s %s, is not complete",
			chipRoles[a], e.chips[a].Geometry().Name)})
		return nil
	}
	return e.upgradeAtOpen(ctx)
}
