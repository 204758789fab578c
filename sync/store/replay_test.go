package store

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// refReplay is the reference model of the replay's delta records: the
// straightforward implementation (every intent entry decoded and checked
// as it comes, the commit checked and applied by applyIntent, one bool per
// block), which the store's replay (entries kept encoded, checked as they
// come, applied in place, bit sets) must match exactly.
type refReplay struct {
	layout    Superblock
	committed State
	staged    *Config
	pending   *intent
	purged    *intent
	cursor    uint32
	wraps     uint32
	erased    []bool
	blank     []bool
	named     map[uint32]bool    // blocks the pending intent's entries name
	chunks    map[[2]uint32]bool // chunks they name
}

func (s *refReplay) live() map[uint32]bool {
	m := map[uint32]bool{}
	for _, t := range s.committed.Types {
		for _, c := range t.Chunks {
			m[c.Block] = true
		}
	}
	return m
}

func (s *refReplay) apply(r record) error {
	if r.reserved {
		return fmt.Errorf("%w: header reserved bytes are not zero", ErrCorrupt)
	}
	switch r.kind {
	case kindIntent:
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
		in.entries = []IntentEntry{} // never nil (a list from a pool, before)
		if s.pending != nil {
			in.superseded = s.pending.blocks()
		}
		s.pending = in
		s.named, s.chunks = map[uint32]bool{}, map[[2]uint32]bool{}
		s.cursor, s.wraps = in.cursor, in.wraps
	case kindIntentChunk:
		in := s.pending
		if in == nil {
			return fmt.Errorf("%w: intent chunks without an intent", ErrCorrupt)
		}
		gen, entries, err := decodeIntentChunks(r.body, nil)
		if err != nil {
			return err
		}
		if gen != in.generation {
			return fmt.Errorf("%w: intent chunks for generation %d without its intent", ErrCorrupt, gen)
		}
		if in.partsSeen >= in.parts {
			return fmt.Errorf("%w: intent chunks record %d, the intent announced %d", ErrCorrupt, in.partsSeen+1, in.parts)
		}
		live := s.live()
		for _, x := range entries {
			switch {
			case x.Block >= s.layout.DataBlocks:
				return fmt.Errorf("%w: intent names block %d of %d", ErrCorrupt, x.Block, s.layout.DataBlocks)
			case live[x.Block]:
				return fmt.Errorf("%w: intent names data block %d, which the committed generation holds", ErrCorrupt, x.Block)
			case s.named[x.Block]:
				return fmt.Errorf("%w: intent names data block %d twice", ErrCorrupt, x.Block)
			case x.Type == SpareType && (x.Index != 0 || x.Check != 0 || !x.Digest.IsZero()):
				return fmt.Errorf("%w: spare block %d has a non-zero index, check or digest", ErrCorrupt, x.Block)
			}
			s.named[x.Block] = true
		}
		for _, x := range entries {
			s.erased[x.Block], s.blank[x.Block] = false, false
		}
		for _, x := range entries {
			if x.Type == SpareType {
				continue
			}
			i := slices.IndexFunc(in.types, func(t TypeState) bool { return t.Type == x.Type })
			switch {
			case i < 0:
				return fmt.Errorf("%w: intent writes a chunk of type %d it does not describe", ErrCorrupt, x.Type)
			case int64(x.Index) >= int64(in.chunkCounts[i]):
				return fmt.Errorf("%w: intent writes chunk %d of type %d beyond its %d chunks", ErrCorrupt, x.Index, x.Type, in.chunkCounts[i])
			case s.chunks[[2]uint32{uint32(x.Type), x.Index}]:
				return fmt.Errorf("%w: intent writes chunk %d of type %d twice", ErrCorrupt, x.Index, x.Type)
			}
			s.chunks[[2]uint32{uint32(x.Type), x.Index}] = true
		}
		in.entries = append(in.entries, entries...)
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
			types, err := (&Store{committed: s.committed}).applyIntent(in)
			if err != nil {
				return err
			}
			next.Types = types
			for _, x := range in.entries {
				if x.Type == SpareType {
					s.erased[x.Block] = true
				}
			}
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
	case kindPurged:
		d := dec{buf: r.body}
		gen, seq := d.u64(), d.u64()
		if err := d.end(); err != nil {
			return fmt.Errorf("%w: purged mark: %v", ErrCorrupt, err)
		}
		if s.pending == nil || s.pending.generation != gen || s.pending.seq != seq {
			return fmt.Errorf("%w: purged mark for generation %d without its intent", ErrCorrupt, gen)
		}
		for _, b := range s.pending.blocks() {
			s.erased[b] = true
		}
		s.purged, s.pending = s.pending, nil
		s.staged = nil
	case kindStaged, kindConfigCommit, kindRole:
		// Configuration and role records are not what this model is for
		// (the delta records' checks and block flags): the store's own
		// transitions, on the model's state.
		st := &Store{layout: s.layout, committed: s.committed, staged: s.staged, pending: s.pending}
		if err := st.apply(r); err != nil {
			return err
		}
		s.committed, s.staged = st.committed, st.staged
	default:
		return fmt.Errorf("%w: a %s record is not allowed after the checkpoint", ErrCorrupt, kindName(r.kind))
	}
	return nil
}

// journalGen makes random delta records: mostly well-formed rounds
// (intent, chunk records covering the new chunks, commit or purge) whose
// blocks and digests agree with the committed state they apply to, with
// random damage that passes the CRCs (what a trusting or buggy reader
// would meet).
type journalGen struct {
	rng        *rand.Rand
	dataBlocks uint32
	seq        uint64
	gen        uint64 // last generation used
	recs       []record
	committed  map[uint8][]Chunk // the committed chunk maps, if every record so far applies
	// the open intent, for well-formed follow-ups
	inSeq, inGen uint64
	inParts      int
	inMaps       map[uint8][]Chunk // the chunk maps its commit makes
}

func (g *journalGen) add(kind uint8, body []byte) {
	g.seq++
	g.recs = append(g.recs, record{kind: kind, seq: g.seq, body: body, reserved: g.rng.IntN(100) == 0})
}

func (g *journalGen) flip() bool { return g.rng.IntN(12) == 0 } // a damaged field

// freeBlock returns a data block outside the committed maps and not in
// taken (a random one if flip).
func (g *journalGen) freeBlock(taken map[uint32]bool) uint32 {
	if g.rng.IntN(40) == 0 {
		return g.dataBlocks + uint32(g.rng.IntN(3)) // beyond the data area
	}
	live := map[uint32]bool{}
	for _, cs := range g.committed {
		for _, c := range cs {
			live[c.Block] = true
		}
	}
	for {
		b := uint32(g.rng.IntN(int(g.dataBlocks)))
		if g.flip() || (!live[b] && !taken[b]) {
			taken[b] = true
			return b
		}
	}
}

func (g *journalGen) round() {
	rng := g.rng
	g.gen++
	gen := g.gen
	if g.flip() {
		gen -= uint64(rng.IntN(3))
	}
	types := []uint8{1, 2, 3, 4}
	rng.Shuffle(len(types), func(i, j int) { types[i], types[j] = types[j], types[i] })
	nt := rng.IntN(4)
	var metas []TypeState
	var counts []int
	for _, t := range types[:nt] {
		n := rng.IntN(9)
		size := int64(0)
		if n > 0 {
			size = int64(n)*4096 - int64(rng.IntN(4096))
		}
		if g.flip() {
			size += 4096 // a chunk count that does not match the size
		}
		metas = append(metas, TypeState{Type: t, Size: size, Seq: gen})
		counts = append(counts, n)
	}
	if g.flip() && nt > 0 {
		metas = append(metas, metas[0]) // a type listed twice
		counts = append(counts, counts[0])
	}
	taken := map[uint32]bool{}
	var entries []IntentEntry
	maps := map[uint8][]Chunk{}
	for i, m := range metas {
		old := g.committed[m.Type]
		next := make([]Chunk, counts[i])
		copy(next, old)
		from := len(old)
		if rng.IntN(2) == 0 {
			from = rng.IntN(counts[i] + 1) // the rest kept from the committed map
		}
		for k := min(from, counts[i]); k < counts[i]; k++ {
			if g.flip() {
				continue // a chunk without a block
			}
			x := g.entry(m.Type, uint32(k), taken)
			next[k] = Chunk{Block: x.Block, Check: x.Check, Digest: x.Digest}
			entries = append(entries, x)
		}
		maps[m.Type] = next
		metas[i].Digest = payloadDigestOf(m.Size, next)
		if g.flip() {
			metas[i].Digest[0] ^= 1
		}
	}
	for range rng.IntN(4) {
		x := IntentEntry{Type: SpareType, Block: g.freeBlock(taken)}
		if g.flip() {
			x.Check = 1
		}
		entries = append(entries, x)
	}
	if g.flip() {
		entries = append(entries, g.entry(uint8(rng.IntN(7)), uint32(rng.IntN(10)), taken))
	}
	rng.Shuffle(len(entries), func(i, j int) { entries[i], entries[j] = entries[j], entries[i] })
	// Split into records.
	var parts [][]IntentEntry
	for rest := entries; len(rest) > 0; {
		n := 1 + rng.IntN(len(rest))
		parts = append(parts, rest[:n])
		rest = rest[n:]
	}
	var h enc
	h.u64(gen)
	nparts := len(parts)
	if g.flip() {
		nparts += 1 - 2*rng.IntN(2)
	}
	h.u16(uint16(nparts))
	h.u32(uint32(rng.IntN(int(g.dataBlocks) + 2)))
	h.u32(uint32(rng.IntN(2)))
	h.config(Config{Types: []uint8{1, 2}, Interval: time.Duration(rng.IntN(100))})
	h.u8(uint8(len(metas)))
	for i := range metas {
		h.typeMeta(&metas[i], counts[i])
	}
	body := h.buf
	if g.flip() {
		body = body[:rng.IntN(len(body)+1)]
	}
	g.add(kindIntent, body)
	g.inSeq, g.inGen, g.inParts, g.inMaps = g.seq, gen, nparts, maps
	for _, p := range parts {
		var b enc
		pg := gen
		if g.flip() {
			pg++
		}
		b.u64(pg)
		n := len(p)
		if g.flip() {
			n++
		}
		b.u16(uint16(n))
		b.raw(encodeEntries(p))
		g.add(kindIntentChunk, b.buf)
	}
	switch k := rng.IntN(10); {
	case k < 6:
		g.commit()
	case k < 8:
		g.purge()
	}
	// else: left open (pending, or superseded by the next intent)
}

func (g *journalGen) entry(t uint8, i uint32, taken map[uint32]bool) IntentEntry {
	return IntentEntry{Type: t, Index: i, Block: g.freeBlock(taken), Check: g.rng.Uint64(), Digest: Digest{byte(g.rng.Uint32()), 31: byte(g.rng.Uint32())}}
}

func (g *journalGen) commit() {
	seq, gen, parts := g.inSeq, g.inGen, g.inParts
	if g.flip() {
		seq = 0
	}
	if g.flip() {
		parts++
	}
	st := State{Generation: gen, Time: time.Unix(int64(gen), 0), Config: Config{Types: []uint8{1}}, Role: Role{Epoch: gen}}
	g.add(kindCommit, encodeCommit(seq, parts, &st))
	for t, m := range g.inMaps {
		g.committed[t] = m
	}
}

func (g *journalGen) purge() {
	var e enc
	e.u64(g.inGen)
	seq := g.inSeq
	if g.flip() {
		seq++
	}
	e.u64(seq)
	g.add(kindPurged, e.buf)
}

func (g *journalGen) other() {
	cfg := Config{Types: []uint8{uint8(1 + g.rng.IntN(6))}, GroupSize: g.rng.IntN(4)}
	if g.flip() {
		cfg.Types = append(cfg.Types, cfg.Types[0]) // a type twice
	}
	switch g.rng.IntN(4) {
	case 0:
		var e enc
		e.role(Role{Epoch: uint64(g.rng.IntN(9)), Active: uint8(g.rng.IntN(2))})
		g.add(kindRole, e.buf)
	case 1, 2:
		var e enc
		e.config(cfg)
		g.add([]uint8{kindStaged, kindConfigCommit}[g.rng.IntN(2)], e.buf)
	case 3:
		g.gen++
		st := State{Generation: g.gen, Config: Config{Types: []uint8{2}}}
		parts := 0
		if g.flip() {
			parts = 1
		}
		g.add(kindCommit, encodeCommit(0, parts, &st)) // a round that changed nothing
	}
}

// TestReplayEqualsReference: over random journals, the replay of delta
// records leaves exactly the state, interrupted and purged rounds, block
// flags and error the reference model does.
func TestReplayEqualsReference(t *testing.T) {
	const seed = 23
	rng := rand.New(rand.NewPCG(seed, seed^0x2545f4914f6cdd1d))
	for iter := range 3000 {
		checkReplayEqualsReference(t, rng, fmt.Sprintf("iteration %d (seed %d)", iter, seed))
	}
}

// FuzzReplayEqualsReference is TestReplayEqualsReference with journals
// drawn from fuzzed seeds.
func FuzzReplayEqualsReference(f *testing.F) {
	f.Add(uint64(1), uint64(2))
	f.Add(uint64(23), uint64(0))
	f.Fuzz(func(t *testing.T, a, b uint64) {
		checkReplayEqualsReference(t, rand.New(rand.NewPCG(a, b)), fmt.Sprintf("seed %d,%d", a, b))
	})
}

// checkReplayEqualsReference replays one random journal (drawn from rng)
// with the store and with the reference model and requires the same
// outcome; what names the journal in failures.
func checkReplayEqualsReference(t *testing.T, rng *rand.Rand, what string) {
	const nb = 100
	// The committed generation the deltas apply to: distinct blocks.
	base := State{Generation: 5, Config: Config{Types: []uint8{1, 2}}}
	blocks := rng.Perm(nb)
	for _, ty := range []uint8{1, 3} {
		n := rng.IntN(7)
		cs := make([]Chunk, n, n+rng.IntN(3))
		for i := range cs {
			cs[i] = Chunk{Block: uint32(blocks[0]), Check: uint64(i), Digest: Digest{ty, byte(i)}}
			blocks = blocks[1:]
		}
		base.Types = append(base.Types, TypeState{Type: ty, Size: int64(n) * 4096, Chunks: cs})
	}
	g := &journalGen{rng: rng, dataBlocks: nb, gen: 5, committed: map[uint8][]Chunk{}}
	for _, ts := range base.Types {
		g.committed[ts.Type] = ts.Chunks
	}
	for range 1 + rng.IntN(6) {
		if rng.IntN(4) == 0 {
			g.other()
		} else {
			g.round()
		}
	}
	erased := make([]bool, nb)
	blank := make([]bool, nb)
	for b := range erased {
		erased[b] = rng.IntN(2) == 0
		blank[b] = rng.IntN(2) == 0
	}

	layout := Superblock{Version: FormatVersion, DataBlocks: nb, EraseSize: 4096}
	ref := &refReplay{layout: layout, committed: base.Clone(), erased: slices.Clone(erased), blank: slices.Clone(blank)}
	s := &Store{layout: layout, committed: base.Clone(), erased: newBlockSet(nb), blank: newBlockSet(nb)}
	for b := range erased {
		if erased[b] {
			s.erased.add(uint32(b))
		}
		if blank[b] {
			s.blank.add(uint32(b))
		}
	}
	var werr, gerr error
	at := -1
	for i, r := range g.recs {
		werr = ref.apply(r)
		gerr = s.apply(r)
		if werr != nil || gerr != nil {
			at = i
			break
		}
	}
	line := fmt.Sprintf("%s, record %d of %d", what, at, len(g.recs))
	if werr != nil {
		require.EqualError(t, gerr, werr.Error(), line)
	} else {
		require.NoError(t, gerr, line)
	}
	for _, in := range []*intent{s.pending, s.purged} {
		if in != nil {
			in.decodeRaw()
		}
	}
	require.Equal(t, ref.committed, s.committed, line)
	require.Equal(t, ref.staged, s.staged, line)
	require.Equal(t, ref.cursor, s.cursor, line)
	require.Equal(t, ref.wraps, s.wraps, line)
	for b := range ref.erased {
		require.Equal(t, ref.erased[b], s.erased.has(uint32(b)), "%s: block %d erased", line, b)
		require.Equal(t, ref.blank[b], s.blank.has(uint32(b)), "%s: block %d blank", line, b)
	}
	for k, pair := range [][2]*intent{{ref.pending, s.pending}, {ref.purged, s.purged}} {
		want, got := pair[0], pair[1]
		if want == nil {
			require.Nil(t, got, "%s: intent %d", line, k)
			continue
		}
		require.NotNil(t, got, "%s: intent %d", line, k)
		require.Equal(t, want.interrupted(k == 1), got.interrupted(k == 1), "%s: intent %d", line, k)
		require.Equal(t, want.types, got.types, "%s: intent %d", line, k)
		require.Equal(t, want.chunkCounts, got.chunkCounts, "%s: intent %d", line, k)
		require.Equal(t, [4]any{want.parts, want.partsSeen, want.cursor, want.wraps}, [4]any{got.parts, got.partsSeen, got.cursor, got.wraps}, "%s: intent %d", line, k)
	}
}

// TestReplayModelCoverage: the random journals of
// TestReplayEqualsReference mostly apply (so the replay's success paths
// are compared, not only its errors), and each kind of damage the model
// checks comes up.
func TestReplayModelCoverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	applied, records := 0, 0
	for range 500 {
		g := &journalGen{rng: rng, dataBlocks: 100, gen: 5, committed: map[uint8][]Chunk{}}
		for range 4 {
			g.round()
		}
		ref := &refReplay{layout: Superblock{Version: FormatVersion, DataBlocks: 100, EraseSize: 4096}, erased: make([]bool, 100), blank: make([]bool, 100)}
		ref.committed.Generation = 5
		for _, r := range g.recs {
			records++
			if ref.apply(r) != nil {
				break
			}
			applied++
		}
	}
	require.Greater(t, applied, records/3, "%d of %d records applied", applied, records)
}
