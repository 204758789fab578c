// Replay: the checkpoint, and the state transitions of each journal record
// kind after it (docs/FORMAT.md, States and transitions).

package store

import (
	"errors"
	"fmt"
)

// errIncomplete: the journal ends before the checkpoint-end (a compaction
// cut by power loss, unless the scan found damage).
var errIncomplete = errors.New("checkpoint incomplete")

// replay rebuilds the state of journal area area from its checkpoint and
// the records after it. A checkpoint that is incomplete or inconsistent
// is an error (the state is unchanged); a later record that cannot be
// applied is damage (recorded): the state is the one before it.
func (s *Store) replay(recs []record, epoch uint64, area int) error {
	ck, err := s.readCheckpoint(recs, epoch)
	if err != nil {
		return err
	}
	s.committed, s.staged, s.cursor, s.wraps = ck.state, ck.staged, ck.cursor, ck.wraps
	s.pending, s.purged = nil, nil
	s.live, s.liveStale = ck.live, false
	s.erased = newBlockSet(int(s.layout.DataBlocks))
	s.blank = newBlockSet(int(s.layout.DataBlocks))
	s.unread = newBlockSet(int(s.layout.DataBlocks))
	if s.wraps == 0 {
		// No data block from the cursor on was written since the format.
		s.blank.addRange(s.cursor, s.layout.DataBlocks)
	}
	// Deltas.
	for _, r := range recs[ck.records:] {
		if err := s.apply(r); err != nil {
			s.find(RecordRejected, area, r.off, r.seq, "a %s record: %v; it and later records ignored", kindName(r.kind), err)
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
	if r.reserved {
		return fmt.Errorf("%w: header reserved bytes are not zero", ErrCorrupt)
	}
	switch r.kind {
	case kindIntent:
		return s.applyIntentHead(r)
	case kindIntentChunk, kindIntentRuns:
		return s.applyIntentChunks(r)
	case kindIntentDeltas, kindIntentDeltas5:
		return s.applyIntentDeltas(r)
	case kindCommit:
		return s.applyCommit(r)
	case kindPurged:
		d := dec{buf: r.body}
		gen, seq := d.u64(), d.u64()
		if err := d.end(); err != nil {
			return fmt.Errorf("%w: purged mark: %v", ErrCorrupt, err)
		}
		if s.pending == nil || s.pending.generation != gen || s.pending.seq != seq {
			return fmt.Errorf("%w: purged mark for generation %d without its intent", ErrCorrupt, gen)
		}
		// Live blocks are cleared again after the replay.
		for _, b := range s.pending.blocks() {
			s.erased.add(b)
		}
		s.purged, s.pending = s.pending, nil
		s.purged.dropCheck()
		s.staged = nil // purge-then-reinit: back to the committed config
	case kindStaged:
		d := dec{buf: r.body}
		c := d.config()
		if err := d.end(); err != nil {
			return fmt.Errorf("%w: staged config: %v", ErrCorrupt, err)
		}
		s.staged = &c
	case kindConfigCommit:
		if s.layout.Version < 2 {
			return fmt.Errorf("%w: a config-commit record in a format version %d store", ErrCorrupt, s.layout.Version)
		}
		d := dec{buf: r.body}
		c := d.config()
		if err := d.end(); err != nil {
			return fmt.Errorf("%w: committed config: %v", ErrCorrupt, err)
		}
		if s.pending != nil {
			return fmt.Errorf("%w: config commit while the round of generation %d is pending", ErrCorrupt, s.pending.generation)
		}
		s.committed.Config = c
		s.staged = nil
	case kindRole:
		d := dec{buf: r.body}
		ro := d.role()
		if err := d.end(); err != nil {
			return fmt.Errorf("%w: role: %v", ErrCorrupt, err)
		}
		s.committed.Role = ro
	default:
		return fmt.Errorf("%w: a %s record is not allowed after the checkpoint", ErrCorrupt, kindName(r.kind))
	}
	return nil
}

// applyIntentHead replays an intent record.
func (s *Store) applyIntentHead(r record) error {
	in, err := decodeIntentHead(r.body)
	if err != nil {
		return err
	}
	if in.cursor >= s.layout.DataBlocks {
		return fmt.Errorf("%w: intent's cursor %d is beyond the data area's %d blocks", ErrCorrupt, in.cursor, s.layout.DataBlocks)
	}
	for i := range in.types {
		if err := s.layout.checkMeta(&in.types[i], in.chunkCounts[i]); err != nil {
			return fmt.Errorf("%w: intent: %v", ErrCorrupt, err)
		}
	}
	in.seq = r.seq
	in.named = newBlockSet(int(s.layout.DataBlocks))
	// Nothing changes s.committed.Types between an intent and its commit:
	// its entries can be checked against them as they come.
	in.check = newRawCheck(in, s.committed.Types, true)
	if old := s.pending; old != nil {
		// A second intent without purge or commit: the first one's
		// blocks are still to purge; its entries are not the new round's.
		old.dropCheck()
		in.superseded = old.blocks()
	}
	s.pending = in
	s.cursor, s.wraps = in.cursor, in.wraps
	return nil
}

// applyIntentChunks replays an intent-chunks record (or an intent-runs
// record, format version 5, whose runs expand to the same entries): its entries' blocks
// must be in the data area, outside the committed state and named once in
// the intent; a spare has index, check and digest 0; a chunk entry names
// a type of the intent and an index below its new count, once.
func (s *Store) applyIntentChunks(r record) error {
	in := s.pending
	if in == nil {
		return fmt.Errorf("%w: intent chunks without an intent", ErrCorrupt)
	}
	var gen uint64
	var p []byte
	var err error
	if r.kind == kindIntentRuns {
		if s.layout.Version < compactVersion {
			return fmt.Errorf("%w: an intent-runs record in a format version %d store", ErrCorrupt, s.layout.Version)
		}
		gen, p, err = expandRuns(r.body)
	} else {
		gen, p, err = splitIntentChunks(r.body)
	}
	if err != nil {
		return err
	}
	switch {
	case gen != in.generation:
		return fmt.Errorf("%w: intent chunks for generation %d without its intent", ErrCorrupt, gen)
	case in.partsSeen >= in.parts:
		return fmt.Errorf("%w: intent chunks record %d, the intent announced %d", ErrCorrupt, in.partsSeen+1, in.parts)
	}
	if err := s.claimBlocks(in, p); err != nil {
		return err
	}
	if c := in.check; c != nil {
		c.addFused(p)
		if c.err != nil {
			return c.err
		}
	}
	in.raw = append(in.raw, p)
	in.partsSeen++
	return nil
}

// applyCommit replays a commit record.
func (s *Store) applyCommit(r record) error {
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
		s.liveStale = true
	} else {
		switch {
		case s.pending != nil:
			return fmt.Errorf("%w: commit of generation %d while a round is pending", ErrCorrupt, next.Generation)
		case c.parts != 0:
			return fmt.Errorf("%w: commit of generation %d without an intent announces %d chunk records", ErrCorrupt, next.Generation, c.parts)
		}
		next.Types = s.committed.Types
	}
	s.committed = next
	s.staged = nil
	s.pending = nil
	return nil
}

// claimBlocks checks the blocks of the intent entries p (bytes from
// splitIntentChunks) and the fields of its spare entries, then notes the
// blocks as named by in and no longer erased or blank. On error nothing
// changes.
func (s *Store) claimBlocks(in *intent, p []byte) error {
	nb := s.layout.DataBlocks
	live := s.liveSet()
	for q := 0; q+intentEntrySize <= len(p); q += intentEntrySize {
		e := p[q : q+intentEntrySize]
		b := le.Uint32(e[ieBlock:])
		switch {
		case b >= nb:
			return fmt.Errorf("%w: intent names block %d of %d", ErrCorrupt, b, nb)
		case live.has(b):
			return fmt.Errorf("%w: intent names data block %d, which the committed generation holds", ErrCorrupt, b)
		case in.named.has(b):
			return fmt.Errorf("%w: intent names data block %d twice", ErrCorrupt, b)
		case e[ieType] == SpareType && !isZero(e[ieIndex:ieBlock], e[ieCheck:]):
			return fmt.Errorf("%w: spare block %d has a non-zero index, check or digest", ErrCorrupt, b)
		}
		in.named.add(b)
	}
	// Blocks are mostly consecutive: the bits to clear in the current word
	// of erased and blank gather in a register.
	erased, blank := s.erased, s.blank
	ew, clr := -1, uint64(0)
	for q := 0; q+intentEntrySize <= len(p); q += intentEntrySize {
		b := le.Uint32(p[q+ieBlock:])
		if w := int(b >> 6); w != ew {
			if ew >= 0 {
				erased[ew] &^= clr
				blank[ew] &^= clr
			}
			ew, clr = w, 0
		}
		clr |= 1 << (b & 63)
	}
	if ew >= 0 {
		erased[ew] &^= clr
		blank[ew] &^= clr
	}
	return nil
}

func isZero(ps ...[]byte) bool {
	for _, p := range ps {
		for _, c := range p {
			if c != 0 {
				return false
			}
		}
	}
	return true
}

// liveSet returns the data blocks of the committed generation, rebuilt if
// a commit changed them since.
func (s *Store) liveSet() blockSet {
	if s.live == nil || s.liveStale {
		s.live = s.committedBlocks()
		s.liveStale = false
	}
	return s.live
}
