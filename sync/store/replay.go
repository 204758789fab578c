// Replay: the state transitions of each journal record kind, from a
// checkpoint and the records after it (docs/FORMAT.md, States and
// transitions).

package store

import (
	"fmt"
)

// replay rebuilds the state from a checkpoint and the records after it.
func (s *Store) replay(recs []record, epoch uint64) error {
	if len(recs) == 0 || recs[0].kind != kindCkptBegin {
		return fmt.Errorf("%w: no checkpoint", ErrCorrupt)
	}
	// Checkpoint.
	d := dec{buf: recs[0].body}
	if d.u64() != epoch {
		return fmt.Errorf("%w: checkpoint epoch mismatch", ErrCorrupt)
	}
	st := d.stateHead()
	var staged *Config
	if d.u8() != 0 {
		c := d.config()
		staged = &c
	}
	cursor, wraps := d.u32(), d.u32()
	nt := int(d.u8())
	if nt > maxTypes {
		return fmt.Errorf("%w: checkpoint lists %d types", ErrCorrupt, nt)
	}
	nchunks := make([]int, nt)
	for i := range nt {
		t, n := d.typeMeta()
		if n > int(s.layout.DataBlocks) {
			return fmt.Errorf("%w: checkpoint type %d has %d chunks", ErrCorrupt, t.Type, n)
		}
		st.Types = append(st.Types, t)
		nchunks[i] = n
	}
	var maps [maxTypes][]Chunk
	getChunkMaps(nchunks, maps[:nt])
	for i := range st.Types {
		st.Types[i].Chunks = maps[i][:0]
	}
	nrec := int(d.u32())
	if d.bad {
		return fmt.Errorf("%w: checkpoint head truncated", ErrCorrupt)
	}
	if len(recs) < nrec+2 {
		return fmt.Errorf("%w: checkpoint incomplete (%d of %d records)", ErrCorrupt, len(recs)-1, nrec+2)
	}
	for _, r := range recs[1 : 1+nrec] {
		if r.kind != kindCkptChunks {
			return fmt.Errorf("%w: checkpoint record %d is %s", ErrCorrupt, r.seq, kindName(r.kind))
		}
		d := dec{buf: r.body}
		if d.u64() != epoch {
			return fmt.Errorf("%w: checkpoint chunk record epoch mismatch", ErrCorrupt)
		}
		typ, first, n := d.u8(), int(d.u32()), int(d.u16())
		ti := -1
		for i := range st.Types {
			if st.Types[i].Type == typ {
				ti = i
			}
		}
		if ti < 0 || first != len(st.Types[ti].Chunks) || first+n > nchunks[ti] {
			return fmt.Errorf("%w: checkpoint chunk record %d out of order", ErrCorrupt, r.seq)
		}
		for range n {
			c := Chunk{Block: d.u32(), Check: d.u64(), Digest: d.digest()}
			if c.Block >= s.layout.DataBlocks {
				return fmt.Errorf("%w: checkpoint maps a chunk to block %d of %d", ErrCorrupt, c.Block, s.layout.DataBlocks)
			}
			st.Types[ti].Chunks = append(st.Types[ti].Chunks, c)
		}
		if d.bad {
			return fmt.Errorf("%w: checkpoint chunk record %d truncated", ErrCorrupt, r.seq)
		}
	}
	for i := range st.Types {
		if len(st.Types[i].Chunks) != nchunks[i] {
			return fmt.Errorf("%w: checkpoint type %d has %d of %d chunks", ErrCorrupt, st.Types[i].Type, len(st.Types[i].Chunks), nchunks[i])
		}
	}
	end := recs[1+nrec]
	if ed := (dec{buf: end.body}); end.kind != kindCkptEnd || ed.u64() != epoch || int(ed.u32()) != nrec {
		return fmt.Errorf("%w: checkpoint end record missing", ErrCorrupt)
	}
	s.committed, s.staged, s.cursor, s.wraps = st, staged, cursor, wraps
	s.pending, s.purged = nil, nil
	s.erased = newBlockSet(int(s.layout.DataBlocks))
	if wraps == 0 {
		s.erased.addRange(cursor, s.layout.DataBlocks)
	}
	// Deltas.
	for _, r := range recs[2+nrec:] {
		if err := s.apply(r); err != nil {
			s.damage = append(s.damage, fmt.Sprintf("journal record %d (%s): %v; later records ignored", r.seq, kindName(r.kind), err))
			break
		}
	}
	// The intents that outlive the replay get their entries decoded: the
	// journal blocks they point into are reused after it.
	if s.pending != nil {
		s.pending.decodeRaw()
	}
	if s.purged != nil {
		s.purged.decodeRaw()
	}
	if !s.opts.ReadOnly {
		// Only writes (purges, rounds) use the block flags.
		s.rebuildLive()
	}
	return nil
}

// apply replays one delta record onto the in-memory state. The intents
// it builds keep their entries encoded (intent.raw, pointing into the
// journal blocks being replayed) and check them as their records come
// (intent.check); replay decodes the intents that outlive it.
func (s *Store) apply(r record) error {
	switch r.kind {
	case kindIntent:
		in, err := decodeIntentHead(r.body)
		if err != nil {
			return err
		}
		in.seq = r.seq
		// Nothing changes s.committed.Types between an intent and its commit:
		// its entries can be checked against them as they come.
		in.check = newRawCheck(in, s.committed.Types, true)
		if s.pending != nil {
			// A second intent without purge or commit: the first one's
			// blocks still need purging; keep both lists.
			s.pending.dropCheck()
			in.entries = s.pending.entries
			in.raw = append(in.raw, s.pending.raw...)
			if len(in.entries) > 0 {
				in.dropCheck()
			}
			if in.check != nil {
				for _, p := range in.raw {
					in.check.addBlocks(p, s.erased, s.layout.DataBlocks) // checked before: no error
				}
			}
		}
		s.pending = in
		s.cursor, s.wraps = in.cursor, in.wraps
	case kindIntentChunk:
		in := s.pending
		if in == nil {
			return fmt.Errorf("%w: intent chunks without an intent", ErrCorrupt)
		}
		gen, p, err := splitIntentChunks(r.body)
		if err != nil {
			return err
		}
		if gen != in.generation {
			return fmt.Errorf("%w: intent chunks for generation %d without its intent", ErrCorrupt, gen)
		}
		if in.check != nil {
			// One pass: blocks, and the check for the commit.
			if b, ok := in.check.addBlocks(p, s.erased, s.layout.DataBlocks); !ok {
				return fmt.Errorf("%w: intent names block %d of %d", ErrCorrupt, b, s.layout.DataBlocks)
			}
		} else {
			erased, nb := s.erased, s.layout.DataBlocks
			for q := 0; q+intentEntrySize <= len(p); q += intentEntrySize {
				b := le.Uint32(p[q+ieBlock:])
				if b >= nb {
					return fmt.Errorf("%w: intent names block %d of %d", ErrCorrupt, b, nb)
				}
				erased.remove(b)
			}
		}
		in.raw = append(in.raw, p)
		in.partsSeen++
	case kindCommit:
		c, err := decodeCommit(r.body)
		if err != nil {
			return err
		}
		if c.state.Generation <= s.committed.Generation {
			return fmt.Errorf("%w: commit of generation %d after %d", ErrCorrupt, c.state.Generation, s.committed.Generation)
		}
		next := c.state
		if c.intentSeq != 0 {
			in := s.pending
			if in == nil || in.seq != c.intentSeq || in.generation != next.Generation || in.partsSeen != in.parts || c.parts != in.parts {
				return fmt.Errorf("%w: commit of generation %d without its complete intent", ErrCorrupt, next.Generation)
			}
			types, err := s.applyIntentOwned(in, s.erased)
			if err != nil {
				return err
			}
			next.Types = types
		} else {
			if s.pending != nil {
				return fmt.Errorf("%w: commit of generation %d while a round is pending", ErrCorrupt, next.Generation)
			}
			next.Types = s.committed.Types
		}
		s.committed = next
		s.staged = nil
		s.pending = nil
	case kindPurged:
		d := dec{buf: r.body}
		gen, seq := d.u64(), d.u64()
		if d.bad || s.pending == nil || s.pending.generation != gen || s.pending.seq != seq {
			return fmt.Errorf("%w: purged mark for generation %d without its intent", ErrCorrupt, gen)
		}
		// Live blocks are cleared again after the replay.
		for i := range s.pending.entries {
			s.erased.add(s.pending.entries[i].Block)
		}
		for _, p := range s.pending.raw {
			for q := 0; q+intentEntrySize <= len(p); q += intentEntrySize {
				s.erased.add(le.Uint32(p[q+ieBlock:]))
			}
		}
		s.purged, s.pending = s.pending, nil
		s.purged.dropCheck()
		s.staged = nil // purge-then-reinit: back to the committed config
	case kindStaged:
		d := dec{buf: r.body}
		c := d.config()
		if d.bad {
			return fmt.Errorf("%w: staged config truncated", ErrCorrupt)
		}
		s.staged = &c
	case kindRole:
		d := dec{buf: r.body}
		ro := d.role()
		if d.bad {
			return fmt.Errorf("%w: role record truncated", ErrCorrupt)
		}
		s.committed.Role = ro
	default:
		return fmt.Errorf("%w: unexpected %s record", ErrCorrupt, kindName(r.kind))
	}
	return nil
}
