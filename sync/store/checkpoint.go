// Reading a checkpoint: its begin, chunk and end records, checked against
// each other and the layout (docs/FORMAT.md, Journal: reading, step 4).

package store

import (
	"fmt"
)

// checkpointState is what a complete checkpoint gives.
type checkpointState struct {
	state         State
	staged        *Config
	cursor, wraps uint32
	records       int      // records it spans: begin, chunk records, end
	live          blockSet // the data blocks its chunk maps hold
}

// readCheckpoint reads the checkpoint at the start of recs: begin, exactly
// r checkpoint-chunks records (type by type in the order of the begin's
// metadata, chunk indices in order, each data block once), end with the
// same epoch and r. Each type's payload digest must be that of its chunk
// digests. It returns an error wrapping errIncomplete if the records end
// before the end record.
func (s *Store) readCheckpoint(recs []record, epoch uint64) (checkpointState, error) {
	var ck checkpointState
	if len(recs) == 0 || recs[0].kind != kindCkptBegin {
		return ck, fmt.Errorf("%w: no checkpoint", ErrCorrupt)
	}
	if recs[0].reserved {
		return ck, fmt.Errorf("%w: checkpoint-begin: header reserved bytes are not zero", ErrCorrupt)
	}
	d := dec{buf: recs[0].body}
	if d.u64() != epoch {
		return ck, fmt.Errorf("%w: checkpoint epoch mismatch", ErrCorrupt)
	}
	st := d.stateHead()
	if d.flag("has staged") {
		c := d.config()
		ck.staged = &c
	}
	ck.cursor, ck.wraps = d.u32(), d.u32()
	nt := int(d.u8())
	if nt > maxTypes {
		return ck, fmt.Errorf("%w: checkpoint lists %d types", ErrCorrupt, nt)
	}
	nchunks := make([]int, 0, nt)
	for range nt {
		t, n := d.typeMeta()
		if d.bad {
			break
		}
		if err := s.layout.checkMeta(&t, n); err != nil {
			return ck, fmt.Errorf("%w: checkpoint-begin: %v", ErrCorrupt, err)
		}
		if _, dup := st.Type(t.Type); dup {
			return ck, fmt.Errorf("%w: checkpoint-begin lists type %d twice", ErrCorrupt, t.Type)
		}
		st.Types = append(st.Types, t)
		nchunks = append(nchunks, n)
	}
	nrec := int(d.u32())
	if err := d.end(); err != nil {
		return ck, fmt.Errorf("%w: checkpoint-begin: %v", ErrCorrupt, err)
	}
	if ck.cursor >= s.layout.DataBlocks {
		return ck, fmt.Errorf("%w: checkpoint's cursor %d is beyond the data area's %d blocks", ErrCorrupt, ck.cursor, s.layout.DataBlocks)
	}
	var maps [maxTypes][]Chunk
	getChunkMaps(nchunks, maps[:nt])
	for i := range st.Types {
		st.Types[i].Chunks = maps[i][:0]
	}
	if len(recs) < nrec+2 {
		return ck, fmt.Errorf("%w: %w (%d of %d records)", ErrCorrupt, errIncomplete, len(recs), nrec+2)
	}
	ck.live = newBlockSet(int(s.layout.DataBlocks))
	current := 0 // the type being filled
	var deltaBlocks blockSet
	for _, r := range recs[1 : 1+nrec] {
		if r.kind == kindCkptDeltas && !r.reserved {
			// After every chunk record (format version 3).
			if deltaBlocks == nil {
				deltaBlocks = newBlockSet(int(s.layout.DataBlocks))
			}
			if err := s.checkpointDeltas(r, epoch, &st, ck.live, deltaBlocks); err != nil {
				return ck, err
			}
			continue
		}
		if r.kind != kindCkptChunks || r.reserved || deltaBlocks != nil {
			return ck, fmt.Errorf("%w: checkpoint record %d is a malformed %s", ErrCorrupt, r.seq, kindName(r.kind))
		}
		var err error
		if current, err = s.checkpointChunks(r, epoch, &st, nchunks, current, ck.live); err != nil {
			return ck, err
		}
	}
	for i := range st.Types {
		t := &st.Types[i]
		if len(t.Chunks) != nchunks[i] {
			return ck, fmt.Errorf("%w: checkpoint type %d has %d of %d chunks", ErrCorrupt, t.Type, len(t.Chunks), nchunks[i])
		}
		if !s.opts.TrustRecords && payloadDigestOf(t.Size, t.Chunks) != t.Digest {
			return ck, fmt.Errorf("%w: checkpoint type %d: the payload digest is not that of its size and chunk digests", ErrCorrupt, t.Type)
		}
	}
	if deltaBlocks != nil {
		ck.live.or(deltaBlocks)
	}
	end := recs[1+nrec]
	ed := dec{buf: end.body}
	if end.kind != kindCkptEnd || end.reserved || ed.u64() != epoch || int(ed.u32()) != nrec || ed.end() != nil {
		return ck, fmt.Errorf("%w: checkpoint end record missing", ErrCorrupt)
	}
	sortTypes(st.Types)
	ck.state, ck.records = st, nrec+2
	return ck, nil
}

// checkpointChunks applies one checkpoint-chunks record (u64 epoch, u8
// type, u32 first chunk index, u16 c, c entries) to st's chunk maps and
// returns the index in st.Types of the type being filled.
func (s *Store) checkpointChunks(r record, epoch uint64, st *State, nchunks []int, current int, used blockSet) (int, error) {
	d := dec{buf: r.body}
	if d.u64() != epoch {
		return current, fmt.Errorf("%w: checkpoint chunk record epoch mismatch", ErrCorrupt)
	}
	typ, first, n := d.u8(), int(d.u32()), int(d.u16())
	ti := -1
	for i := range st.Types {
		if st.Types[i].Type == typ {
			ti = i
		}
	}
	if ti < current {
		return current, fmt.Errorf("%w: checkpoint chunk record %d out of order", ErrCorrupt, r.seq)
	}
	for ; current < ti; current++ {
		if len(st.Types[current].Chunks) != nchunks[current] {
			return current, fmt.Errorf("%w: checkpoint chunk record %d out of order", ErrCorrupt, r.seq)
		}
	}
	t := &st.Types[ti]
	if first != len(t.Chunks) || first+n > nchunks[ti] {
		return current, fmt.Errorf("%w: checkpoint chunk record %d out of order", ErrCorrupt, r.seq)
	}
	for range n {
		c := Chunk{Block: d.u32(), Check: d.u64(), Digest: d.digest()}
		if d.bad {
			break
		}
		switch {
		case c.Block >= s.layout.DataBlocks:
			return current, fmt.Errorf("%w: checkpoint maps a chunk to block %d of %d", ErrCorrupt, c.Block, s.layout.DataBlocks)
		case used.has(c.Block):
			return current, fmt.Errorf("%w: checkpoint maps two chunks to data block %d", ErrCorrupt, c.Block)
		}
		used.add(c.Block)
		t.Chunks = append(t.Chunks, c)
	}
	if err := d.end(); err != nil {
		return current, fmt.Errorf("%w: checkpoint chunk record %d: %v", ErrCorrupt, r.seq, err)
	}
	return current, nil
}

// checkMeta checks a type's metadata (t, with n chunks) against the
// layout: a phase inside an erase block and a chunk count that matches the
// size and phase (docs/FORMAT.md, Chunks and digests) and that the data
// area can hold.
func (sb *Superblock) checkMeta(t *TypeState, n int) error {
	switch {
	case int64(t.Phase) >= sb.EraseSize:
		return fmt.Errorf("type %d: phase %d is not inside an erase block of %d bytes", t.Type, t.Phase, sb.EraseSize)
	case n > int(sb.DataBlocks):
		return fmt.Errorf("type %d: %d chunks, the data area has %d blocks", t.Type, n, sb.DataBlocks)
	case n != ChunkCount(t.Size, int64(t.Phase), sb.EraseSize):
		return fmt.Errorf("type %d: %d chunks, a payload of %d bytes at phase %d has %d", t.Type, n, t.Size, t.Phase, ChunkCount(t.Size, int64(t.Phase), sb.EraseSize))
	}
	return nil
}
