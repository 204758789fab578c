package engine

import "context"

// ScrubPrimary compares, in one pass, the primary's copy of every
// committed chunk that the information region's change table says did not
// change since its commit with the chunk's committed digest (see
// checkTableEntry): the change table is not trusted blindly. Each chunk
// that differs is a change-table fault — a change the writer made without
// updating its table, which a round (reading only the chunks the table
// names) would never sync. It is returned, counted (Status.Counters.
// ChangeTableFaults), reported as an EventChangeTable event, and the next
// round re-reads the chunk and syncs it.
//
// It reads the primary's region (three small reads per chunk: record
// header, table entry, chunk), holding the round lock (and the primary
// lock, if the engine has one): a one-shot caller runs it before its round
// (the CLI's sync does); a daemon checks the table a chunk at a time with
// ScrubStep. With no backup store it has nothing to compare against and
// returns its error.
func (e *Engine) ScrubPrimary(ctx context.Context) ([]TableFault, error) {
	e.roundMu.Lock()
	defer e.roundMu.Unlock()
	bk, err := e.backupStore()
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	sc := &scrubState{backupChip: 1 - int(e.role.Active)}
	e.mu.Unlock()
	if l := e.opts.PrimaryLock; l != nil {
		l.Lock()
		defer l.Unlock()
	}
	st := bk.StateRef()
	var out []TableFault
	for _, ts := range st.Types {
		for i := range ts.Chunks {
			if err := ctx.Err(); err != nil {
				return out, err
			}
			if f := e.checkTableEntry(bk, sc, st.Generation, ts, i); f != nil {
				out = append(out, *f)
			}
		}
	}
	return out, nil
}
