package engine

import (
	"fmt"
	"slices"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TableFault is a change-table fault the scrub found: chunk Index of the
// primary's Type differs from its committed digest in Generation although
// the information region's change table says it did not change since. A
// round, which reads only the chunks the table names, would not have seen
// the change; the next round re-reads the chunk (Status.Counters.
// ChangeTableFaults, event change-table).
type TableFault struct {
	Type       info.Type `json:"type"`
	Index      int       `json:"index"`
	Generation uint64    `json:"generation"`
}

// checkTableEntry compares the primary's copy of committed chunk i of ts
// with its committed digest, when the primary's change table says the
// chunk did not change since the commit (an entry equal to the committed
// check). A difference is a change-table fault: it is reported and the
// chunk is scheduled for the next round to re-read (see rehashChunks),
// and that round runs for the type whatever the group schedule says. A
// region without tables, a record whose size moved the chunk's bounds or
// a table that admits the change need no check: rounds read those chunks.
// It reads the record header, the entry and the chunk (three small reads);
// a read error of the primary ends the check (a round reports anomalies).
func (e *Engine) checkTableEntry(bk *store.Store, sc *scrubState, gen uint64, ts store.TypeState, i int) *TableFault {
	t := info.Type(ts.Type)
	primary := e.chips[1-sc.backupChip]
	if sc.region == nil {
		l := e.opts.Layout
		r, err := info.OpenRegion(primary, l.InfoOff, l.InfoSize)
		if err != nil {
			return nil
		}
		sc.region = r
	}
	r := sc.region
	chunk := bk.ChunkSize()
	toff, entries, ok := r.ChangeTable(t)
	off, _ := r.Extent(t)
	phase := (off + info.RecordHeaderSize) % chunk
	c := ts.Chunks[i]
	if !ok || r.ChangeUnit() != chunk || off%chunk != 0 || int64(ts.Phase) != phase || i >= entries || c.Check == 0 {
		return nil
	}
	hb := make([]byte, info.RecordHeaderSize)
	if _, err := primary.ReadAt(hb, off); err != nil {
		return nil
	}
	h, err := info.DecodeRecordHeader(hb)
	if err != nil || h.Type != t {
		return nil
	}
	lo, hi := store.ChunkBounds(int64(h.PayloadLen), phase, chunk, i)
	olo, ohi := store.ChunkBounds(ts.Size, phase, chunk, i)
	if lo != olo || hi != ohi || lo >= hi {
		return nil
	}
	eb := make([]byte, info.ChangeEntrySize)
	if _, err := primary.ReadAt(eb, toff+int64(i)*info.ChangeEntrySize); err != nil || info.ChangeEntry(eb, 0) != c.Check {
		return nil
	}
	p := make([]byte, hi-lo)
	if _, err := primary.ReadAt(p, off+info.RecordHeaderSize+lo); err != nil || store.ChunkDigest(p) == c.Digest {
		return nil
	}
	f := &TableFault{Type: t, Index: i, Generation: gen}
	if e.rehashChunks == nil {
		e.rehashChunks = map[info.Type][]int{}
	}
	if !slices.Contains(e.rehashChunks[t], i) {
		e.rehashChunks[t] = append(e.rehashChunks[t], i)
	}
	e.mu.Lock()
	e.counters.ChangeTableFaults++
	e.mu.Unlock()
	e.event(EventChangeTable, gen, fmt.Sprintf("%s: %v chunk %d differs from its committed digest but its change table entry says unchanged; the next round re-reads it",
		primary.Geometry().Name, t, i))
	return f
}

// rehashTypes returns the chosen types with chunks the change table
// missed, for a round to run for them beyond its group.
func (e *Engine) rehashTypes(cfg Config) []info.Type {
	var out []info.Type
	for _, t := range cfg.Types {
		if len(e.rehashChunks[t]) > 0 {
			out = append(out, t)
		}
	}
	return out
}
