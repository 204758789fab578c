package engine

import (
	"context"
	"fmt"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// ScrubReport says what Scrub found.
type ScrubReport struct {
	Device     string              `json:"device"`
	Generation uint64              `json:"generation"`
	Chunks     int                 `json:"chunks"` // committed chunks read
	Bad        []store.ChunkReport `json:"bad,omitempty"`
	Rewrite    TypeList            `json:"rewrite,omitempty"` // types whose damaged chunks the next round rewrites
	Damage     []string            `json:"damage,omitempty"`  // damage the store's Open found
	// TableFaults: primary chunks that differ from their committed digest
	// although the change table says unchanged (ScrubPrimary fills it).
	TableFaults []TableFault `json:"table_faults,omitempty"`
}

// Scrub reads every committed chunk on the backup store and checks its
// digest. The next round rewrites the damaged chunks (and so commits a
// new, intact generation). It reads the whole data in use holding the
// round lock: run it on demand (the CLI's sync does); a daemon scrubs
// with ScrubStep, a chunk at a time between rounds.
func (e *Engine) Scrub(ctx context.Context) (ScrubReport, error) {
	e.roundMu.Lock()
	defer e.roundMu.Unlock()
	bk, err := e.backupStore()
	if err != nil {
		return ScrubReport{}, err
	}
	st := bk.StateRef()
	rep := ScrubReport{Device: bk.Flash().Geometry().Name, Generation: st.Generation, Damage: bk.Damage()}
	for _, t := range st.Types {
		rep.Chunks += len(t.Chunks)
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	seen := map[uint8]bool{}
	for _, b := range bk.VerifyChunks() {
		rep.Bad = append(rep.Bad, store.ChunkReport{Type: b.Type, Index: b.Index, Block: b.Block, Error: b.Err.Error()})
		if !seen[b.Type] {
			seen[b.Type] = true
			rep.Rewrite = append(rep.Rewrite, info.Type(b.Type))
		}
		if e.rewriteChunks == nil {
			e.rewriteChunks = map[info.Type][]int{}
		}
		e.rewriteChunks[info.Type(b.Type)] = append(e.rewriteChunks[info.Type(b.Type)], b.Index)
		e.noteDamage(ChunkDamage{Type: info.Type(b.Type), Index: b.Index, Block: b.Block, Generation: st.Generation, Error: b.Err.Error(), Repair: RepairResync})
	}
	e.mu.Lock()
	e.lastScrub = e.now()
	e.mu.Unlock()
	if len(rep.Bad) > 0 {
		e.event(EventDamage, st.Generation, fmt.Sprintf("%d damaged chunks on %s; the next round rewrites %v", len(rep.Bad), rep.Device, rep.Rewrite))
	}
	return rep, nil
}
