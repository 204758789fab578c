// Writing a round: the intent (Begin), the chunks (Write), the commit
// record (Commit).

package store

import (
	"fmt"
	"slices"
)

// TypePlan is one type's new contents for a round: where the payload sits
// on the primary (Phase), its size, the primary record's sequence number and
// the digests of all its chunks (see ChunkCount).
type TypePlan struct {
	Type   uint8
	Phase  uint32
	Size   int64
	Seq    uint64
	Chunks []Digest
	// Checks are the chunks' ChunkCheck values (nil: computed by nobody,
	// stored as 0).
	Checks []uint64
	// Payload, if not nil, is the payload's bytes (Size of them): a
	// changed chunk that differs from its committed base in a few bytes
	// is then committed as a delta record (format version 3) instead of a
	// full copy. Nil: every changed chunk is written whole.
	Payload []byte
	// Chunk, if not nil and Payload is nil, returns the bytes of changed
	// chunk i (ChunkBounds of the payload) for a round that read only its
	// changed chunks: those may then go as delta records too. A chunk it
	// cannot give (an error) is written whole. Chunks the round did not
	// read are never asked for, so such a type's committed delta chains
	// are not folded by this round.
	Chunk func(i int) ([]byte, error)
}

// Plan is what a round syncs: the types whose contents it takes (others
// keep their committed data) and the configuration it runs with.
type Plan struct {
	Generation uint64
	Config     Config
	Types      []TypePlan
	// Rewrite forces chunks to be written even when their digests match
	// (after damage was found): chunk indices by type.
	Rewrite map[uint8][]int
}

// ChunkWrite is a chunk a round must write.
type ChunkWrite struct {
	// Type is the chunk's type, or DeltaBlockType for one of the round's
	// delta blocks (Index is then the delta block's number in the round,
	// and Write takes nil data: the store holds its Bytes bytes).
	Type  uint8
	Index int
	Block uint32
	Bytes int64 // a delta block's bytes
	done  bool
	// check and digest: what the intent recorded for the chunk.
	check  uint64
	digest Digest
}

// Round is a sync round in progress: its intent is durable; chunks are
// written with Write, then Commit.
type Round struct {
	store         *Store
	intent        *intent // nil: nothing changed (commit only)
	writes        []ChunkWrite
	blocks        map[uint32]bool // the blocks of writes
	windowsErased map[uint32]bool // erase windows already entered
	spares        map[uint32]bool // the intent's spare blocks
	scratch       []byte          // a block-sized buffer for reads
	padded        []byte          // a block-sized buffer: a write's bytes, then 0xFF
	types         []TypeState
	written       int
	done          bool
	synced        []uint8 // the plan's types
	// jArea, jStart: the journal area and block the round's first record
	// went to (JournalBlocksUsed).
	jArea  int
	jStart int64
	// commits: the contents of the chunks the round commits, for the
	// store's cache once it commits (noteCommitted).
	commits     map[[2]uint32][]byte
	commitBytes int64
}

// Begin starts a round: it compares the plan's chunk digests with the
// committed generation, allocates free data blocks for the chunks that
// differ (rotating from the allocation cursor), and writes the intent — the
// "round in progress" mark listing every block the round may touch —
// before any data. If nothing differs, no intent is written and Commit
// writes only a commit record.
func (s *Store) Begin(p Plan) (*Round, error) {
	if s.opts.ReadOnly {
		return nil, ErrReadOnly
	}
	if s.pending != nil || s.round != nil {
		return nil, ErrPending
	}
	if p.Generation <= s.committed.Generation {
		return nil, fmt.Errorf("round generation %d is not after the committed %d", p.Generation, s.committed.Generation)
	}
	r := &Round{store: s, jArea: s.area, jStart: s.tailBlock}
	in := &intent{generation: p.Generation, config: p.Config.clone()}
	dp := s.newDeltaPlanner()
	var planned []plannedType
	for ti := range p.Types {
		tp := &p.Types[ti]
		r.synced = append(r.synced, tp.Type)
		n := ChunkCount(tp.Size, int64(tp.Phase), s.eraseSize)
		if len(tp.Chunks) != n {
			return nil, fmt.Errorf("type %d: %d chunk digests for a %d-byte payload (want %d)", tp.Type, len(tp.Chunks), tp.Size, n)
		}
		if n > int(s.layout.MaxChunks) {
			return nil, fmt.Errorf("%w: type %d has %d chunks, the store was sized for %d", ErrFull, tp.Type, n, s.layout.MaxChunks)
		}
		meta := TypeState{Type: tp.Type, Phase: tp.Phase, Size: tp.Size, Seq: tp.Seq, Digest: PayloadDigest(tp.Size, tp.Chunks)}
		old, had := s.committed.Type(tp.Type)
		overwritten := s.overwrittenChunks(tp.Type)
		pt := plannedType{plan: tp, meta: meta, n: n}
		pt.same = had && old.Size == tp.Size && old.Phase == tp.Phase && old.Digest == meta.Digest
		for i, d := range tp.Chunks {
			if !had || old.Phase != tp.Phase || i >= len(old.Chunks) || old.Chunks[i].Digest != d || slices.Contains(p.Rewrite[tp.Type], i) || overwritten[i] {
				base := had && old.Phase == tp.Phase && i < len(old.Chunks) && !slices.Contains(p.Rewrite[tp.Type], i) && !overwritten[i]
				if base {
					ok, err := dp.try(tp, i, old.Chunks[i], p.Generation)
					if err != nil {
						return nil, err
					}
					if ok {
						continue
					}
				}
				pt.full = append(pt.full, i)
			}
		}
		planned = append(planned, pt)
	}
	dp.bound(planned)
	if len(dp.deltas) > 0 && s.layout.Version < s.writeVersion() {
		if err := s.upgrade(); err != nil {
			return nil, err
		}
	}
	for ti := range planned {
		pt := &planned[ti]
		tp := pt.plan
		if pt.same && len(pt.full) == 0 && !dp.has(tp.Type) {
			continue
		}
		in.types = append(in.types, pt.meta)
		in.chunkCounts = append(in.chunkCounts, pt.n)
		slices.Sort(pt.full)
		for _, i := range pt.full {
			x := IntentEntry{Type: tp.Type, Index: uint32(i), Digest: tp.Chunks[i]}
			if i < len(tp.Checks) {
				x.Check = tp.Checks[i]
			}
			in.entries = append(in.entries, x)
		}
	}
	in.deltas = dp.pack(s.eraseSize)
	for _, d := range dp.deltas {
		r.noteCommitted(d.t, d.i, d.data, false)
	}
	if len(in.types) == 0 {
		s.round = r
		return r, nil
	}
	// The delta blocks get blocks as chunks do, then leave the entries
	// (their intent-deltas records name them).
	for range in.deltas {
		in.entries = append(in.entries, IntentEntry{Type: DeltaBlockType})
	}
	if err := s.allocate(in); err != nil {
		return nil, err
	}
	if len(in.deltas) > 0 {
		k, kept := 0, in.entries[:0]
		for _, x := range in.entries {
			if x.Type == DeltaBlockType {
				in.deltas[k].block = x.Block
				k++
				continue
			}
			kept = append(kept, x)
		}
		in.entries = kept
	}
	recs := intentRecords(&s.layout, s.nextSeq, in)
	sizes := make([]int64, 0, len(recs)+2)
	for _, b := range recs {
		sizes = append(sizes, int64(len(b)))
	}
	sizes = append(sizes, 2*s.slotSize, 2*s.slotSize, 2*s.slotSize, 2*s.slotSize) // commit, role (failover), purged mark, staged config
	if err := s.ensureRoom(sizes); err != nil {
		return nil, err
	}
	recs = intentRecords(&s.layout, s.nextSeq, in) // renumbered after a compaction
	in.seq = s.nextSeq
	in.parts = len(recs) - 1
	in.partsSeen = in.parts
	// From here the round is pending: a failed write leaves it to purge.
	s.pending = in
	s.round = r
	r.take(in)
	r.jArea, r.jStart = s.area, s.tailBlock
	if stopped, err := s.writeIntent(recs); err != nil {
		// Pending is what the durable records name, as a restart finds it.
		in = in.durable(recs, s.intentRecordsKept(in, recs, stopped))
		s.pending = in
		r.take(in)
		return r, fmt.Errorf("write intent: %w", err)
	}
	return r, nil
}

// writeIntent writes a round's intent records (writeRecords) and reports
// whether the SetBetweenWrites function stopped them right after a program
// that read back as written: then every record before the stop read back
// as written and none after it was programmed. (After a failed program,
// writeRecords calls it too before it programs the records again: the
// failed program's records may read valid, so that stop is not clean.)
func (s *Store) writeIntent(recs [][]byte) (stopped bool, err error) {
	if f := s.betweenWrites; f != nil {
		last := s.nextSeq // a program that read back as written numbered its records
		s.betweenWrites = func() error {
			clean := s.nextSeq != last
			last = s.nextSeq
			err := f()
			stopped = err != nil && clean
			return err
		}
		defer func() { s.betweenWrites = f }()
	}
	err = s.writeRecords(recs)
	return stopped, err
}

// intentRecordsKept returns how many of the intent records recs (from
// the head on) a journal scan may find after writeRecords failed on
// them: those that read back as written (writeRecords numbers the next
// record after them), and, unless the between function stopped the write
// before the next program (stopped), also the records the failed program
// may have left readable — as many as fit in a whole journal block, the
// most one program holds. A purge then erases every block a restart could
// find named, never fewer (a restart takes a purged round's blocks for
// erased).
func (s *Store) intentRecordsKept(in *intent, recs [][]byte, stopped bool) int {
	n := int(s.nextSeq - in.seq)
	if stopped {
		return n
	}
	for room := s.eraseSize; n < len(recs) && int64(len(recs[n])) <= room; n++ {
		room -= int64(len(recs[n]))
	}
	return n
}

// take makes in the round's intent: its blocks, the chunks and delta
// blocks to write and the spares.
func (r *Round) take(in *intent) {
	r.intent = in
	r.blocks = make(map[uint32]bool, len(in.entries)+len(in.deltas))
	r.writes, r.spares = nil, nil
	for _, x := range in.entries {
		r.blocks[x.Block] = true
		if x.Type != SpareType {
			r.writes = append(r.writes, ChunkWrite{Type: x.Type, Index: int(x.Index), Block: x.Block, check: x.Check, digest: x.Digest})
		} else {
			if r.spares == nil {
				r.spares = map[uint32]bool{}
			}
			r.spares[x.Block] = true
		}
	}
	for k, db := range in.deltas {
		r.blocks[db.block] = true
		r.writes = append(r.writes, ChunkWrite{Type: DeltaBlockType, Index: k, Block: db.block, Bytes: int64(len(db.data)), digest: ChunkDigest(db.data)})
	}
}

// onlyDeltasLeft reports whether every write left is a delta block.
func (r *Round) onlyDeltasLeft() bool {
	for _, w := range r.writes {
		if !w.done && w.Type != DeltaBlockType {
			return false
		}
	}
	return true
}

// Writes returns the chunks the round must write, in order.
func (r *Round) Writes() []ChunkWrite { return slices.Clone(r.writes) }

// Remaining returns how many chunks are still to be written.
func (r *Round) Remaining() int { return len(r.writes) - r.written }

// Blocks returns the data blocks the round may touch (its intent).
func (r *Round) Blocks() []uint32 {
	if r.intent == nil {
		return nil
	}
	return r.intent.blocks()
}

// Generation returns the generation the round will commit.
func (r *Round) Generation() uint64 {
	if r.intent == nil {
		return 0
	}
	return r.intent.generation
}

// Commit writes the commit record: from then on the round's generation is
// the committed one. st supplies the generation's head fields (time, next
// sync, config, image version, upgrade choice, group cursor, role); its
// Types are ignored. All chunks must have been written.
func (r *Round) Commit(st State) error {
	s := r.store
	if r.done {
		return fmt.Errorf("round already finished")
	}
	if r.written != len(r.writes) && !s.opts.EarlyCommit && !(s.opts.LateDeltas && r.onlyDeltasLeft()) {
		return fmt.Errorf("commit with %d of %d chunks written", r.written, len(r.writes))
	}
	next := st
	next.Types = nil
	var intentSeq uint64
	parts := 0
	if r.intent != nil {
		intentSeq, parts = r.intent.seq, r.intent.parts
		next.Generation = r.intent.generation
	}
	if next.Generation <= s.committed.Generation {
		return fmt.Errorf("commit generation %d is not after %d", next.Generation, s.committed.Generation)
	}
	body := encodeCommit(intentSeq, parts, &next)
	if r.intent == nil {
		if err := s.ensureRoom([]int64{recordSize(len(body), s.slotSize)}); err != nil {
			return err
		}
	}
	if err := s.writeRecords([][]byte{encodeRecord(kindCommit, s.nextSeq, body, s.slotSize)}); err != nil {
		return fmt.Errorf("write commit: %w", err)
	}
	if r.intent != nil {
		types, err := s.applyIntent(r.intent)
		if err != nil {
			return err
		}
		next.Types = types
	} else {
		next.Types = s.committed.Types
	}
	s.roundJournal = int(s.tailBlock + 1)
	if s.area == r.jArea {
		s.roundJournal = int(s.tailBlock - r.jStart + 1)
	}
	r.cacheCommitted()
	s.committed = next
	s.staged = nil
	s.pending = nil
	s.round = nil
	r.done = true
	s.rebuildLive()
	for _, t := range r.synced {
		delete(s.suspect, t) // Begin checked its chunks
	}
	return nil
}

// overwrittenChunks returns the committed chunks of type t that do not
// match their digests, if t's chunks are suspect (after damage to the
// journal, the lost rounds may have reused their blocks): Begin writes
// them again. It reads every committed chunk of t once.
func (s *Store) overwrittenChunks(t uint8) map[int]bool {
	if !s.suspect[t] {
		return nil
	}
	bad := map[int]bool{}
	for _, c := range s.VerifyChunks(t) {
		bad[c.Index] = true
	}
	return bad
}

// Abandon forgets the round in memory without writing anything: its intent
// stays durable, so Interrupted reports it and Purge deletes it.
func (r *Round) Abandon() {
	if r.store.round == r {
		r.store.round = nil
	}
	r.done = true
}

// commitRecord is a decoded commit.
type commitRecord struct {
	intentSeq uint64 // 0: no intent (nothing changed, or a config-only generation)
	parts     int
	state     State // head fields only (no types)
}

func encodeCommit(intentSeq uint64, parts int, st *State) []byte {
	var e enc
	e.u64(intentSeq)
	e.u16(uint16(parts))
	e.stateHead(st)
	return e.buf
}

func decodeCommit(body []byte) (commitRecord, error) {
	d := dec{buf: body}
	var c commitRecord
	c.intentSeq = d.u64()
	c.parts = int(d.u16())
	c.state = d.stateHead()
	if err := d.end(); err != nil {
		return c, fmt.Errorf("%w: commit: %v", ErrCorrupt, err)
	}
	return c, nil
}

// Changed returns the types the round writes chunks of (in write order,
// each once) and how many chunks it writes, whole or as deltas; folds
// of committed deltas count as chunks written.
func (r *Round) Changed() (types []uint8, chunks int) {
	add := func(t uint8) {
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	for _, w := range r.writes {
		if w.Type != DeltaBlockType {
			add(w.Type)
			chunks++
		}
	}
	if r.intent != nil {
		for _, db := range r.intent.deltas {
			for _, x := range db.entries {
				add(x.Type)
				chunks++
			}
		}
	}
	return types, chunks
}
