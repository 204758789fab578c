package campaign

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// checkReadOnlyOpen: a read-only open (what `cmcsync inspect` and the
// other commands that only read do after a power loss) reports the
// interrupted round it does not purge, and writes nothing (part of the
// purged invariant; it only fails, so that a passing verdict keeps
// checkPurged's words). It runs before the recovery, when the reference
// decoder read an interrupted round pending on the backup (pre) of stable
// chips, on an engine opened with Options.ReadOnly through an injector
// without faults that traces every operation; the chips and the clock are
// put back afterwards (worker.quiet), so the recovery sees what it would
// have seen. An open that fails is left to the recovery's verdicts.
func (w *worker) checkReadOnlyOpen(ctx context.Context, vs verdicts, pre *storeView, t *trial) {
	if !w.stable || pre.err != nil || pre.pending == nil || t.secondBoot || t.external != nil {
		return
	}
	b := w.bench
	var wrote []faults.Op
	var pending []string
	var err error
	w.quiet(func() {
		in := faults.NewInjector(faults.Schedule{}, faults.Options{SplitPages: true, Clock: w.clock, Trace: func(op faults.Op) {
			if op.Kind != faults.Read {
				op.Data = nil
				wrote = append(wrote, op)
			}
		}})
		opts := b.options(w.clock, b.mutant)
		opts.ReadOnly = true
		chipA, chipB := in.Wrap(w.chips[0], faults.Primary), in.Wrap(w.chips[1], faults.Backup)
		if b.scenario.Swapped {
			chipA, chipB = chipB, chipA
		}
		e, oerr := engine.Open(ctx, chipA, chipB, opts)
		if err = oerr; err != nil {
			return
		}
		for _, p := range e.Pending() {
			pending = append(pending, p.What)
		}
		e.Release()
	})
	switch {
	case len(wrote) > 0:
		vs.fail(Purged, "the read-only open before the recovery wrote %d time(s) (first: %v)", len(wrote), wrote[0])
	case err != nil:
	case !slices.ContainsFunc(pending, func(s string) bool {
		return strings.Contains(s, fmt.Sprintf("interrupted round of generation %d ", pre.pending.Generation))
	}):
		vs.fail(Purged, "interrupted generation %d was pending on the backup, but the read-only open before the recovery did not report it (pending: %q)", pre.pending.Generation, pending)
	}
}
