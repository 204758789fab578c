package engine

import (
	"fmt"
	"slices"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// The collect step through the information region's change tables
// (region version 2, sync/info change.go): instead of reading a record
// whole, a round reads its 32-byte header and its table, compares each
// entry with the committed chunk's check (store.Chunk.Check: the same two
// CRCs, BlockCheck), and reads only the chunks whose entries differ.
// Chunks it does not read keep their committed check and digest. It then
// combines the chunks' CRC-32C values into the payload's CRC-32C and
// compares it with the record header's: equal, the round's chunks are
// exactly one intact payload the record describes, as after a whole read;
// different (a writer cut between its record and its table, a writer that
// keeps no table, a record written meanwhile, a corrupt answer), the
// round reads the record whole as before (RoundReport.ReadWhole).
//
// What the table can miss — the primary's bytes changed while its entry
// and the record's CRC did not (a change behind the writer's back, a CRC
// collision) — the scrub catches (ScrubStep compares the primary's chunks
// with their committed digests) and the next round re-reads.

// sparsePayload is a payload of which a round holds only the chunks it
// read: the ones its change table said changed, and those forced.
type sparsePayload struct {
	size   int64
	buf    []byte // pooled (getPayload); the chunks are slices of it
	chunks map[int][]byte
}

// chunkBytes returns the bytes of chunk i of type t that the round read
// (store.ChunkBounds of its payload). A chunk the round did not read is an
// error: Apply never writes bytes it did not take from the one read of the
// primary the round made.
func (c *collection) chunkBytes(t uint8, i int) ([]byte, error) {
	if b, ok := c.payloads[t]; ok {
		lo, hi := store.ChunkBounds(int64(len(b)), c.phases[t], c.chunkSize, i)
		return b[lo:hi], nil
	}
	if sp, ok := c.sparse[t]; ok {
		if b, ok := sp.chunks[i]; ok {
			return b, nil
		}
	}
	return nil, fmt.Errorf("chunk %d of %v was not read by the round", i, info.Type(t))
}

// release gives the collection's buffers back to the pool, except the
// whole payloads if kept (the engine's cache took them); it must not be
// used after.
func (c *collection) release(kept bool) {
	if !kept {
		for _, b := range c.payloads {
			putPayload(b)
		}
	}
	for _, sp := range c.sparse {
		putPayload(sp.buf)
	}
}

// tableRead is the outcome of reading one type through its change table.
type tableRead struct {
	plan   store.TypePlan
	sparse *sparsePayload
	read   int64 // bytes of chunks read
}

// readChanged reads type t through its change table (see above). used is
// false when it cannot (a version 1 region, a table whose blocks are not
// the store's chunks, no committed copy of t to compare with, suspect
// chunks) or when the table disagrees with the record; the caller then
// reads the record whole. err is a read error of the primary (an anomaly,
// as a whole read's).
func (e *Engine) readChanged(rs *roundState, region *info.Region, t info.Type, phase, chunk int64) (tr tableRead, used bool, err error) {
	toff, entries, ok := region.ChangeTable(t)
	off, capacity := region.Extent(t)
	ts, have := rs.backup.StateRef().Type(uint8(t))
	if !ok || region.ChangeUnit() != chunk || off%chunk != 0 || !have || int64(ts.Phase) != phase || rs.backup.Suspect(uint8(t)) {
		return tableRead{}, false, nil
	}
	hb := make([]byte, info.RecordHeaderSize)
	if _, err := rs.primary.ReadAt(hb, off); err != nil {
		return tableRead{}, false, fmt.Errorf("read %v record: %w", t, err)
	}
	h, err := info.DecodeRecordHeader(hb)
	if err != nil || h.Type != t || int64(h.PayloadLen) > capacity-info.RecordHeaderSize {
		return tableRead{}, false, nil // the whole read reports it
	}
	size := int64(h.PayloadLen)
	n := store.ChunkCount(size, phase, chunk)
	if n > entries {
		return tableRead{}, false, nil
	}
	tb := make([]byte, n*info.ChangeEntrySize)
	if _, err := rs.primary.ReadAt(tb, toff); err != nil {
		return tableRead{}, false, fmt.Errorf("read %v change table: %w", t, err)
	}
	forced := append(slices.Clone(e.rewriteChunks[t]), e.rehashChunks[t]...)
	checks := make([]uint64, n)
	ds := make([]store.Digest, n)
	var need []int
	var total int64
	for i := range n {
		lo, hi := store.ChunkBounds(size, phase, chunk, i)
		if i < len(ts.Chunks) && !slices.Contains(forced, i) {
			olo, ohi := store.ChunkBounds(ts.Size, phase, chunk, i)
			c := ts.Chunks[i]
			if olo == lo && ohi == hi && c.Check != 0 && info.ChangeEntry(tb, i) == c.Check && c.Check != info.ChangeUnknown {
				checks[i], ds[i] = c.Check, c.Digest
				continue
			}
		}
		need = append(need, i)
		total += hi - lo
	}
	sp := &sparsePayload{size: size, buf: getPayload(int(total)), chunks: make(map[int][]byte, len(need))}
	fail := func(err error) (tableRead, bool, error) {
		putPayload(sp.buf)
		return tableRead{}, false, err
	}
	// One read per run of consecutive chunks.
	var at int64
	for k := 0; k < len(need); {
		j := k
		for j+1 < len(need) && need[j+1] == need[j]+1 {
			j++
		}
		lo, _ := store.ChunkBounds(size, phase, chunk, need[k])
		_, hi := store.ChunkBounds(size, phase, chunk, need[j])
		run := sp.buf[at : at+hi-lo]
		if _, err := rs.primary.ReadAt(run, off+info.RecordHeaderSize+lo); err != nil {
			return fail(fmt.Errorf("read %v record: %w", t, err))
		}
		for _, i := range need[k : j+1] {
			clo, chi := store.ChunkBounds(size, phase, chunk, i)
			b := run[clo-lo : chi-lo]
			sp.chunks[i] = b
			checks[i] = store.ChunkCheck(b)
			ds[i] = e.opts.Digests.Digest(b)
		}
		at += hi - lo
		k = j + 1
	}
	if e.opts.Mutant != NoCRCCheck { // MUTANT: trust the primary's record without its payload CRC
		if payloadCRC(checks, size, phase, chunk) != h.PayloadCRC {
			return fail(nil)
		}
	}
	// The record must not have changed while its chunks were read.
	hb2 := make([]byte, info.RecordHeaderSize)
	if _, err := rs.primary.ReadAt(hb2, off); err != nil {
		return fail(fmt.Errorf("read %v record: %w", t, err))
	}
	if h2, err := info.DecodeRecordHeader(hb2); err != nil || h2 != h {
		return fail(nil)
	}
	tr = tableRead{
		plan:   store.TypePlan{Type: uint8(t), Phase: uint32(phase), Size: size, Seq: h.Seq, Chunks: ds, Checks: checks},
		sparse: sp,
		read:   int64(2*info.RecordHeaderSize+len(tb)) + total,
	}
	return tr, true, nil
}
