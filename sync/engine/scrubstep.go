package engine

import (
	"context"
	"fmt"
	"slices"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// How a scrub's damage is repaired (ChunkDamage.Repair).
const (
	// RepairChecking: the primary's copy of the chunk is being checked.
	RepairChecking = "checking"
	// RepairRewrite: the primary's copy of the chunk still matches the
	// committed digest; the next round rewrites the chunk from it (a new
	// generation that changes only that chunk, unless the CMC changed
	// others since).
	RepairRewrite = "rewrite"
	// RepairResync: the primary's record is intact but its copy of the
	// chunk changed since the commit; the next round syncs the type as a
	// new generation, which replaces the damaged chunk.
	RepairResync = "resync"
	// RepairImpossible: the primary's record of the type is corrupt too;
	// nothing intact is left to repair the chunk from.
	RepairImpossible = "unrepairable"
)

// Backup health (Status.BackupHealth).
const (
	HealthUnknown      = "unknown"      // no scrub pass completed since Open
	HealthOK           = "ok"           // the last complete pass found no damage left unrepaired
	HealthDamaged      = "damaged"      // damage found; the next round of its type repairs it
	HealthUnrepairable = "unrepairable" // damage whose primary copy is damaged too
)

// ChunkDamage is a committed chunk of the backup that failed its digest
// check, and how it is repaired.
type ChunkDamage struct {
	Type       info.Type `json:"type"`
	Index      int       `json:"index"`
	Block      uint32    `json:"block"`
	Generation uint64    `json:"generation"` // the committed generation it was found in
	Error      string    `json:"error"`
	Repair     string    `json:"repair"` // RepairChecking, RepairRewrite, RepairResync or RepairImpossible
}

// ScrubProgress is what one ScrubStep did.
type ScrubProgress struct {
	Generation uint64 `json:"generation"` // the backup's committed generation
	Checked    int    `json:"checked"`    // chunks checked in this pass so far
	Total      int    `json:"total"`      // chunks of the generation
	// PassDone: this step completed a pass over every committed chunk.
	PassDone bool `json:"pass_done"`
	// Damage is the damage this step found or classified, if any.
	Damage *ChunkDamage `json:"damage,omitempty"`
	// TableFault is the change-table fault this step found, if any: the
	// primary's copy of the chunk it checked changed behind the change
	// table's back.
	TableFault *TableFault `json:"table_fault,omitempty"`
}

// scrubState is where an incremental scrub stands; owned under roundMu.
type scrubState struct {
	backupChip int
	typeIndex  int // into the committed state's Types
	chunkIndex int
	checked    int
	found      int // damaged chunks found in this pass
	check      *primaryCheck
	region     *info.Region // the primary's information region (checkTableEntry)
}

// primaryCheck is the check of the primary's copy of a damaged chunk:
// first the chunk itself against the committed digest, then, if it
// differs, the whole record's payload CRC, one chunk per step.
type primaryCheck struct {
	damage  *ChunkDamage
	started bool
	header  info.RecordHeader
	off     int64 // chip offset of the record
	phase   int64
	checks  []uint64
	next    int
}

// ScrubStep runs one small step of the backup scrub, for a daemon to call
// between rounds at whatever pace it likes: it verifies one committed
// chunk of the backup against its digest (one chunk read) and, when the
// primary's information region keeps change tables, compares the
// primary's copy of that chunk with the committed digest if the table says
// it did not change (see checkTableEntry: the record header, the entry and
// the chunk); or, after damage was found, reads one chunk of the primary's
// copy to decide how to repair it (plus the region and record headers at
// the first such step). It holds the round lock for those reads only, so
// a scrub delays a round by at most one step's reads.
//
// Damage whose primary copy still matches the committed digest is
// repaired by the next round of its type rewriting that chunk (a new
// generation, written power-safely by the round machinery, never a
// generation that mixes two primary states: the round takes every chunk
// from one read of the primary); if the primary's copy changed, the next
// round syncs the type as a new generation; if the primary's record is
// corrupt too, the damage is reported unrepairable. Rounds of a type with
// damage to repair run whatever the group schedule says. Events scrub
// (a pass completed) and repair (a round rewrote damaged chunks) and
// Status.BackupHealth, Status.LastScrub and Status.ScrubDamage report it.
//
// A pass continues over the newest generation when a round commits
// meanwhile (the chunks a round writes are new; the others keep their
// place) and starts over after a failover (another backup chip).
func (e *Engine) ScrubStep(ctx context.Context) (ScrubProgress, error) {
	e.roundMu.Lock()
	defer e.roundMu.Unlock()
	if err := ctx.Err(); err != nil {
		return ScrubProgress{}, err
	}
	bk, err := e.backupStore()
	if err != nil {
		return ScrubProgress{}, err
	}
	e.mu.Lock()
	backupChip := 1 - int(e.role.Active)
	e.mu.Unlock()
	if e.scrub == nil || e.scrub.backupChip != backupChip {
		e.scrub = &scrubState{backupChip: backupChip}
	}
	sc := e.scrub
	st := bk.StateRef()
	prog := ScrubProgress{Generation: st.Generation}
	for _, t := range st.Types {
		prog.Total += len(t.Chunks)
	}
	if sc.check != nil {
		if l := e.opts.PrimaryLock; l != nil {
			l.Lock()
			defer l.Unlock()
		}
		prog.Damage = e.checkPrimary(bk, sc)
		prog.Checked = sc.checked
		return prog, nil
	}
	// The next committed chunk of the backup.
	for sc.typeIndex < len(st.Types) && sc.chunkIndex >= len(st.Types[sc.typeIndex].Chunks) {
		sc.typeIndex, sc.chunkIndex = sc.typeIndex+1, 0
	}
	if sc.typeIndex >= len(st.Types) {
		e.scrubPassDone(sc, st.Generation)
		prog.PassDone = true
		return prog, nil
	}
	ts := st.Types[sc.typeIndex]
	i := sc.chunkIndex
	sc.chunkIndex++
	sc.checked++
	prog.Checked = sc.checked
	if _, err := bk.ReadChunk(ts.Type, i); err != nil {
		d := &ChunkDamage{Type: info.Type(ts.Type), Index: i, Block: ts.Chunks[i].Block, Generation: st.Generation, Error: err.Error(), Repair: RepairChecking}
		sc.found++
		sc.check = &primaryCheck{damage: d}
		e.noteDamage(*d)
		e.event(EventDamage, st.Generation, fmt.Sprintf("%s: %v chunk %d (block %d) fails its digest: %v; checking the primary's copy", bk.Flash().Geometry().Name, d.Type, i, d.Block, err))
		prog.Damage = d
		return prog, nil
	}
	// The backup's copy is intact: is the primary's what the change
	// table says it is?
	if l := e.opts.PrimaryLock; l != nil {
		l.Lock()
		defer l.Unlock()
	}
	prog.TableFault = e.checkTableEntry(bk, sc, st.Generation, ts, i)
	return prog, nil
}

// checkPrimary runs one step of the check of the primary's copy of the
// damaged chunk sc.check names (see primaryCheck) and returns the damage
// once it is classified, nil while the check goes on.
func (e *Engine) checkPrimary(bk *store.Store, sc *scrubState) *ChunkDamage {
	pc := sc.check
	d := pc.damage
	ts, ok := bk.StateRef().Type(uint8(d.Type))
	if !ok || d.Index >= len(ts.Chunks) {
		sc.check = nil // the type's committed data changed under the check: a round rewrote it
		return nil
	}
	chunk := bk.ChunkSize()
	primary := e.chips[1-sc.backupChip]
	classify := func(repair string) *ChunkDamage {
		sc.check = nil
		d.Repair = repair
		e.noteDamage(*d)
		if repair != RepairImpossible {
			e.scheduleRepair(d.Type, d.Index)
			if e.opts.Mutant == ScrubRepairExtra && len(ts.Chunks) > 1 {
				e.scheduleRepair(d.Type, (d.Index+1)%len(ts.Chunks))
			}
		}
		return d
	}
	if !pc.started {
		pc.started = true
		l := e.opts.Layout
		region, err := info.OpenRegion(primary, l.InfoOff, l.InfoSize)
		if err != nil {
			return classify(RepairImpossible)
		}
		off, _ := region.Extent(d.Type)
		hb := make([]byte, info.RecordHeaderSize)
		if _, err := primary.ReadAt(hb, off); err != nil {
			return classify(RepairImpossible)
		}
		h, err := info.DecodeRecordHeader(hb)
		if err != nil {
			return classify(RepairImpossible)
		}
		pc.header, pc.off, pc.phase = h, off, (off+info.RecordHeaderSize)%chunk
		size := int64(h.PayloadLen)
		if size == ts.Size && pc.phase == int64(ts.Phase) {
			lo, hi := store.ChunkBounds(size, pc.phase, chunk, d.Index)
			p := make([]byte, hi-lo)
			if _, err := primary.ReadAt(p, off+info.RecordHeaderSize+lo); err == nil && store.ChunkDigest(p) == ts.Chunks[d.Index].Digest {
				return classify(RepairRewrite)
			}
		}
		pc.checks = make([]uint64, store.ChunkCount(size, pc.phase, chunk))
		return nil
	}
	size := int64(pc.header.PayloadLen)
	if pc.next < len(pc.checks) {
		lo, hi := store.ChunkBounds(size, pc.phase, chunk, pc.next)
		p := make([]byte, hi-lo)
		if _, err := primary.ReadAt(p, pc.off+info.RecordHeaderSize+lo); err != nil {
			return classify(RepairImpossible)
		}
		pc.checks[pc.next] = store.ChunkCheck(p)
		pc.next++
		return nil
	}
	// Every chunk read: the record is intact if its payload CRC matches
	// and it was not rewritten meanwhile (then the round reads it anew).
	hb := make([]byte, info.RecordHeaderSize)
	if _, err := primary.ReadAt(hb, pc.off); err != nil {
		return classify(RepairImpossible)
	}
	h, err := info.DecodeRecordHeader(hb)
	switch {
	case err != nil:
		return classify(RepairImpossible)
	case h.Seq != pc.header.Seq || h.PayloadCRC != pc.header.PayloadCRC:
		return classify(RepairResync)
	case payloadCRC(pc.checks, size, pc.phase, chunk) != h.PayloadCRC:
		return classify(RepairImpossible)
	}
	return classify(RepairResync)
}

// scheduleRepair has the next round of type t rewrite chunk i (whatever
// its digest) and run for t whatever the group schedule says.
func (e *Engine) scheduleRepair(t info.Type, i int) {
	if e.rewriteChunks == nil {
		e.rewriteChunks = map[info.Type][]int{}
	}
	if !slices.Contains(e.rewriteChunks[t], i) {
		e.rewriteChunks[t] = append(e.rewriteChunks[t], i)
	}
}

// noteDamage records d (found, or newly classified) for Status.ScrubDamage.
func (e *Engine) noteDamage(d ChunkDamage) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k, x := range e.scrubDamage {
		if x.Type == d.Type && x.Index == d.Index {
			e.scrubDamage[k] = d
			return
		}
	}
	e.scrubDamage = append(e.scrubDamage, d)
}

// scrubPassDone ends a pass: the time of the last complete scrub, an
// event, and a new pass from the first chunk.
func (e *Engine) scrubPassDone(sc *scrubState, gen uint64) {
	now := e.now()
	e.mu.Lock()
	e.lastScrub = now
	health := e.backupHealth()
	e.mu.Unlock()
	e.event(EventScrub, gen, fmt.Sprintf("%s: %d chunks checked, %d damaged; backup health %s", e.chips[sc.backupChip].Geometry().Name, sc.checked, sc.found, health))
	*sc = scrubState{backupChip: sc.backupChip}
}

// backupHealth is Status.BackupHealth; e.mu must be held.
func (e *Engine) backupHealth() string {
	health := HealthOK
	if e.lastScrub.IsZero() {
		health = HealthUnknown
	}
	for _, d := range e.scrubDamage {
		switch {
		case d.Repair == RepairImpossible:
			return HealthUnrepairable
		default:
			health = HealthDamaged
		}
	}
	return health
}

// repaired notes that a round committed generation gen with the types
// given: their scrub damage is repaired (event repair).
func (e *Engine) repaired(types []info.Type, gen uint64) {
	for _, t := range types {
		delete(e.rehashChunks, t)
	}
	e.mu.Lock()
	var fixed []string
	e.scrubDamage = slices.DeleteFunc(e.scrubDamage, func(d ChunkDamage) bool {
		if d.Repair == RepairImpossible || d.Repair == RepairChecking || !slices.Contains(types, d.Type) {
			return false
		}
		fixed = append(fixed, fmt.Sprintf("%v chunk %d (%s)", d.Type, d.Index, d.Repair))
		return true
	})
	e.mu.Unlock()
	if len(fixed) > 0 {
		e.event(EventRepair, gen, fmt.Sprintf("damaged chunks rewritten in generation %d: %v", gen, fixed))
	}
}

// repairTypes returns the chosen types that have chunks to rewrite, for
// a round to run for them beyond its group.
func (e *Engine) repairTypes(cfg Config) []info.Type {
	var out []info.Type
	for _, t := range cfg.Types {
		if len(e.rewriteChunks[t]) > 0 {
			out = append(out, t)
		}
	}
	return out
}

// scrubStatus fills the scrub's part of Status; e.mu must be held.
func (e *Engine) scrubStatus(st *Status) {
	st.BackupHealth = e.backupHealth()
	st.LastScrub = e.lastScrub
	st.ScrubDamage = slices.Clone(e.scrubDamage)
}
