package reference

import (
	"fmt"
	"slices"
)

// replayer applies the records after the checkpoint to the state, as the
// table of docs/FORMAT.md, 4.7 says.
type replayer struct {
	b *Backup
	// committed holds the data blocks of the committed state's chunk maps.
	committed map[uint32]bool
	// intentBlocks and intentChunks hold what the pending intent's
	// entries name so far (each block once, each chunk once).
	intentBlocks map[uint32]bool
	intentChunks map[[2]uint32]bool
}

// broken is a record that cannot be applied: kind is BodyMalformed or
// PreconditionBroken.
type broken struct {
	kind FindingKind
	err  error
}

func malformed(err error) *broken { return &broken{BodyMalformed, err} }

func precondition(format string, args ...any) *broken {
	return &broken{PreconditionBroken, fmt.Errorf(format, args...)}
}

func newReplayer(b *Backup) *replayer {
	r := &replayer{b: b}
	r.resetCommitted()
	return r
}

func (r *replayer) resetCommitted() {
	r.committed = make(map[uint32]bool)
	for _, d := range r.b.CommittedBlocks() {
		r.committed[d] = true
	}
}

// apply applies one record, or says why it cannot be applied (the state is
// then the one before it).
func (r *replayer) apply(fr located) *broken {
	if fr.reserved {
		return malformed(fmt.Errorf("header reserved bytes are not zero"))
	}
	switch fr.kind {
	case KindIntent:
		return r.intent(fr)
	case KindIntentChunks:
		return r.intentChunksRecord(fr.body)
	case KindCommit:
		return r.commit(fr.body)
	case KindPurged:
		return r.purged(fr.body)
	case KindConfigStaged:
		f := fields{buf: fr.body}
		c := f.config()
		if err := f.end(); err != nil {
			return malformed(err)
		}
		r.b.Staged = &c
	case KindRole:
		f := fields{buf: fr.body}
		role := f.role()
		if err := f.end(); err != nil {
			return malformed(err)
		}
		r.b.Committed.Role = role
	case KindConfigCommit:
		return r.configCommit(fr.body)
	case KindIntentDeltas:
		return r.intentDeltas(fr.body, false)
	case KindIntentDeltas5:
		return r.intentDeltas(fr.body, true)
	case KindIntentRuns:
		return r.intentRunsRecord(fr.body)
	default:
		return precondition("a %s record is not allowed after the checkpoint", fr.kind)
	}
	return nil
}

// configCommit: config (format version 2). No round may be pending; S's
// configuration becomes it, and the staged one is dropped.
func (r *replayer) configCommit(body []byte) *broken {
	if r.b.Superblock.FormatVersion < 2 {
		return precondition("a config-commit record in a format version %d store", r.b.Superblock.FormatVersion)
	}
	f := fields{buf: body}
	c := f.config()
	if err := f.end(); err != nil {
		return malformed(err)
	}
	if p := r.b.Pending; p != nil {
		return precondition("config-commit while the intent of seq %d is pending", p.Seq)
	}
	r.b.Committed.Config = c
	r.b.Staged = nil
	return nil
}

// intent: u64 generation, u16 p, u32 cursor after, u32 wraps after,
// config, u8 t, t × type meta. No precondition; a pending intent it
// replaces keeps its blocks pending.
func (r *replayer) intent(fr located) *broken {
	f := fields{buf: fr.body}
	in := &Intent{Seq: fr.seq}
	in.Generation = f.u64()
	in.ChunkRecords = f.u16()
	in.CursorAfter = f.u32()
	in.WrapsAfter = f.u32()
	in.Config = f.config()
	in.Types = f.typeMetas()
	if err := f.end(); err != nil {
		return malformed(err)
	}
	sb := &r.b.Superblock
	if in.CursorAfter >= sb.DataBlocks {
		return malformed(fmt.Errorf("cursor after %d, the data area has %d blocks", in.CursorAfter, sb.DataBlocks))
	}
	for _, m := range in.Types {
		if err := sb.checkMeta(m); err != nil {
			return malformed(err)
		}
	}
	if p := r.b.Pending; p != nil {
		r.b.supersededPending = append(r.b.supersededPending, p.Blocks()...)
	}
	r.b.Pending = in
	r.b.Cursor, r.b.Wraps = in.CursorAfter, in.WrapsAfter
	r.intentBlocks = make(map[uint32]bool)
	r.intentChunks = make(map[[2]uint32]bool)
	return nil
}

// intentChunksRecord: u64 generation, u16 c, c × (u8 type, u32 chunk
// index, u32 data block, u64 chunk check, 32 bytes digest). P must exist
// with the same generation and expect more chunk records; a spare entry
// has index, check and digest 0; a chunk entry names a type of the intent
// and an index below its new chunk count; no entry names a block of the
// committed state (a round never touches it) or a block or chunk named
// before in the intent.
func (r *replayer) intentChunksRecord(body []byte) *broken {
	f := fields{buf: body}
	gen, c := f.u64(), f.u16()
	entries := make([]IntentEntry, 0, min(int(c), len(body)/49))
	for range c {
		e := IntentEntry{Type: f.u8(), Index: f.u32(), Block: f.u32(), Check: f.u64(), Digest: f.digest()}
		if f.err != nil {
			break
		}
		if e.Type == SpareType && (e.Index != 0 || e.Check != 0 || e.Digest != (Digest{})) {
			f.fail("spare block %d has a non-zero index, check or digest", e.Block)
		}
		entries = append(entries, e)
	}
	if err := f.end(); err != nil {
		return malformed(err)
	}
	return r.addEntries(KindIntentChunks, gen, entries)
}

// intentRunsRecord (format version 5): u64 generation, u16 r, r × (u8
// type, u32 first chunk index, u32 first data block, u16 n, n × (u64
// check, 32 bytes digest)): entry k of a run is chunk first+k of the type
// in block first block+k, checked as an intent-chunks entry. A run has at
// least one entry, a type other than 0 (spares go in intent-chunks
// records only), and neither its indices nor its blocks pass 2^32 − 1.
func (r *replayer) intentRunsRecord(body []byte) *broken {
	if v := r.b.Superblock.FormatVersion; v < compactVersion {
		return precondition("an intent-runs record in a format version %d store", v)
	}
	f := fields{buf: body}
	gen, runs := f.u64(), f.u16()
	var entries []IntentEntry
	for range runs {
		typ, first, block, n := f.u8(), f.u32(), f.u32(), f.u16()
		if f.err != nil {
			break
		}
		if typ == SpareType || n == 0 || uint64(first)+uint64(n) > 1<<32 || uint64(block)+uint64(n) > 1<<32 {
			f.fail("a run of %d entries of type %d from chunk %d, block %d", n, typ, first, block)
			break
		}
		for k := range uint32(n) {
			e := IntentEntry{Type: typ, Index: first + k, Block: block + k, Check: f.u64(), Digest: f.digest()}
			if f.err != nil {
				break
			}
			entries = append(entries, e)
		}
	}
	if err := f.end(); err != nil {
		return malformed(err)
	}
	return r.addEntries(KindIntentRuns, gen, entries)
}

// addEntries adds the entries of an intent-chunks or intent-runs record
// of generation gen to the pending intent P, which must exist with that
// generation and expect more chunk records; each entry as checkEntry says.
func (r *replayer) addEntries(kind Kind, gen uint64, entries []IntentEntry) *broken {
	p := r.b.Pending
	switch {
	case p == nil:
		return precondition("%v of generation %d without a pending intent", kind, gen)
	case gen != p.Generation:
		return precondition("%v of generation %d, the pending intent's is %d", kind, gen, p.Generation)
	case p.RecordsSeen >= int(p.ChunkRecords):
		return precondition("%v record %d, the intent announced %d", kind, p.RecordsSeen+1, p.ChunkRecords)
	}
	for _, e := range entries {
		if err := r.checkEntry(p, e); err != nil {
			return err
		}
	}
	p.Entries = append(p.Entries, entries...)
	p.RecordsSeen++
	return nil
}

func (r *replayer) checkEntry(p *Intent, e IntentEntry) *broken {
	sb := &r.b.Superblock
	switch {
	case e.Block >= sb.DataBlocks:
		return malformed(fmt.Errorf("data block %d, the data area has %d", e.Block, sb.DataBlocks))
	case r.committed[e.Block]:
		return precondition("the intent names data block %d, which the committed state holds", e.Block)
	case r.intentBlocks[e.Block]:
		return precondition("the intent names data block %d twice", e.Block)
	}
	r.intentBlocks[e.Block] = true
	r.b.nameBlock(e.Block)
	if e.Type == SpareType {
		return nil
	}
	i := slices.IndexFunc(p.Types, func(m TypeMeta) bool { return m.Type == e.Type })
	switch {
	case i < 0:
		return precondition("an entry of type %d, which the intent does not change", e.Type)
	case e.Index >= p.Types[i].ChunkCount:
		return precondition("type %d chunk %d, the type's new count is %d", e.Type, e.Index, p.Types[i].ChunkCount)
	case r.intentChunks[[2]uint32{uint32(e.Type), e.Index}]:
		return precondition("type %d chunk %d is named twice", e.Type, e.Index)
	}
	r.intentChunks[[2]uint32{uint32(e.Type), e.Index}] = true
	return nil
}

// commit: u64 intent seq (0: no intent), u16 p, state head.
func (r *replayer) commit(body []byte) *broken {
	f := fields{buf: body}
	seq, p := f.u64(), f.u16()
	h := f.head()
	if err := f.end(); err != nil {
		return malformed(err)
	}
	if err := checkHead(&h); err != nil {
		return malformed(err)
	}
	b := r.b
	if h.Generation <= b.Committed.Generation {
		return precondition("commit of generation %d, the committed one is %d", h.Generation, b.Committed.Generation)
	}
	if seq == 0 {
		if b.Pending != nil {
			return precondition("commit without an intent while the intent of seq %d is pending", b.Pending.Seq)
		}
		if p != 0 {
			return precondition("commit without an intent announces %d chunk records", p)
		}
		b.Committed.Head = h
		b.Staged = nil
		b.CommittedIntent = nil
		return nil
	}
	in := b.Pending
	switch {
	case in == nil:
		return precondition("commit of the intent of seq %d, no intent is pending", seq)
	case in.Seq != seq:
		return precondition("commit of the intent of seq %d, the pending intent's is %d", seq, in.Seq)
	case in.Generation != h.Generation:
		return precondition("commit of generation %d, the pending intent's is %d", h.Generation, in.Generation)
	case p != in.ChunkRecords || !in.Complete():
		return precondition("commit announces %d chunk records, the intent %d, of which %d were seen", p, in.ChunkRecords, in.RecordsSeen)
	}
	types, err := committedTypes(b.Committed.Types, in)
	if err != nil {
		return err
	}
	b.Committed.Head = h
	b.Committed.Types = types
	b.Staged = nil
	b.CommittedIntent = in
	for _, e := range in.Entries {
		if e.Type == SpareType {
			b.markErased(e.Block)
		}
	}
	b.Pending = nil
	b.supersededPending = nil
	r.resetCommitted()
	return nil
}

// committedTypes returns the types of S with P's types replaced: new
// metadata; the old chunk map truncated or extended to the new count and
// P's entries applied; every chunk must have a block, and the payload
// digest must be that of the chunk digests. No block holds two chunks
// afterwards: S's blocks are distinct (the checkpoint checks them) and
// checkEntry admits only distinct blocks outside S.
func committedTypes(old []TypeState, in *Intent) ([]TypeState, *broken) {
	types := slices.Clone(old)
	for _, m := range in.Types {
		chunks := make([]Chunk, m.ChunkCount)
		have := make([]bool, m.ChunkCount)
		i := slices.IndexFunc(types, func(t TypeState) bool { return t.Type == m.Type })
		if i >= 0 {
			n := copy(chunks, types[i].Chunks)
			for k := range n {
				have[k] = true
			}
		}
		for _, e := range in.Entries {
			if e.Type == m.Type {
				chunks[e.Index] = Chunk{Block: e.Block, Check: e.Check, Digest: e.Digest}
				have[e.Index] = true
			}
		}
		for _, d := range in.Deltas {
			for _, e := range d.Entries {
				if e.Type == m.Type {
					// Over the committed base (intentDeltas checked it).
					old := chunks[e.Index]
					chain := append(slices.Clip(old.Deltas), DeltaRef{Block: d.Block, Off: e.Off, Len: e.Len})
					chunks[e.Index] = Chunk{Block: old.Block, Check: e.Check, Digest: e.Digest, Deltas: chain}
				}
			}
		}
		if k := slices.Index(have, false); k >= 0 {
			return nil, precondition("type %d chunk %d has no block after the commit", m.Type, k)
		}
		t := TypeState{TypeMeta: m, Chunks: chunks}
		if err := checkDigest(&t); err != nil {
			return nil, precondition("%v", err)
		}
		if i >= 0 {
			types[i] = t
		} else {
			types = append(types, t)
		}
	}
	sortTypes(types)
	return types, nil
}

// purged: u64 generation, u64 intent seq. P must have both.
func (r *replayer) purged(body []byte) *broken {
	f := fields{buf: body}
	gen, seq := f.u64(), f.u64()
	if err := f.end(); err != nil {
		return malformed(err)
	}
	in := r.b.Pending
	switch {
	case in == nil:
		return precondition("purged mark of generation %d (intent seq %d), no intent is pending", gen, seq)
	case in.Generation != gen || in.Seq != seq:
		return precondition("purged mark of generation %d (intent seq %d), the pending intent is generation %d (seq %d)", gen, seq, in.Generation, in.Seq)
	}
	for _, d := range r.b.BlocksOfPending() {
		r.b.markErased(d)
	}
	r.b.LastPurged = in
	r.b.Pending = nil
	r.b.supersededPending = nil
	r.b.Staged = nil
	return nil
}
