package store

import (
	"bytes"
	"slices"
	"sync"
)

// ReplayCache remembers the in-memory state that Open rebuilt from journal
// prefixes (a checkpoint and the delta records after it), keyed by the
// prefixes' exact contents: every record's kind, sequence number and body
// bytes, the journal epoch, the erase size and the data area's size. A
// store opened with the cache (Options.ReplayCache) whose journal begins
// with a remembered prefix starts from the remembered state and replays
// only the records after it; the state it ends with is the one a full
// replay gives, since the replay is a function of exactly those inputs.
//
// It is meant for opening many stores whose journals share most of their
// records (a fault campaign opens one per fault point). A ReplayCache is
// safe for concurrent use by stores on any chips; it holds at most the
// number of prefixes given to NewReplayCache (least recently used go
// first), each a deep copy of the state.
type ReplayCache struct {
	mu      sync.Mutex
	max     int
	entries []*replayEntry // least recently used first; immutable once added
}

// NewReplayCache returns a cache remembering up to n journal prefixes
// (n < 1 means 1).
func NewReplayCache(n int) *ReplayCache { return &ReplayCache{max: max(n, 1)} }

// replayEntry is one remembered prefix and the state after it.
type replayEntry struct {
	e          int64
	dataBlocks uint32
	epoch      uint64
	kinds      []uint8
	seqs       []uint64
	ends       []int // ends[i]: end of record i's body in bodies
	bodies     []byte

	st              State
	staged          *Config
	pending, purged *intent
	cursor, wraps   uint32
	erased          []bool
}

func (x *replayEntry) n() int { return len(x.kinds) }

// matches reports whether recs begins with x's prefix, for store s.
func (x *replayEntry) matches(s *Store, recs []record, epoch uint64) bool {
	if x.e != s.e || x.dataBlocks != s.sb.DataBlocks || x.epoch != epoch || len(recs) < x.n() {
		return false
	}
	// Last record first: prefixes that differ mostly differ at the end.
	for i := x.n() - 1; i >= 0; i-- {
		r := &recs[i]
		lo := 0
		if i > 0 {
			lo = x.ends[i-1]
		}
		if r.kind != x.kinds[i] || r.seq != x.seqs[i] || !bytes.Equal(r.body, x.bodies[lo:x.ends[i]]) {
			return false
		}
	}
	return true
}

// lookup returns the longest remembered prefix of recs, or nil.
func (c *ReplayCache) lookup(s *Store, recs []record, epoch uint64) *replayEntry {
	c.mu.Lock()
	es := slices.Clone(c.entries)
	c.mu.Unlock()
	var best *replayEntry
	for _, x := range es {
		if (best == nil || x.n() > best.n()) && x.matches(s, recs, epoch) {
			best = x
		}
	}
	if best != nil {
		c.mu.Lock()
		if i := slices.Index(c.entries, best); i >= 0 {
			c.entries = append(slices.Delete(c.entries, i, i+1), best)
		}
		c.mu.Unlock()
	}
	return best
}

// add remembers s's replay state as the state after recs.
func (c *ReplayCache) add(s *Store, recs []record, epoch uint64) {
	c.mu.Lock()
	for _, x := range c.entries {
		if x.n() == len(recs) && x.matches(s, recs, epoch) {
			c.mu.Unlock()
			return
		}
	}
	c.mu.Unlock()
	x := &replayEntry{e: s.e, dataBlocks: s.sb.DataBlocks, epoch: epoch,
		kinds: make([]uint8, len(recs)), seqs: make([]uint64, len(recs)), ends: make([]int, len(recs))}
	size := 0
	for _, r := range recs {
		size += len(r.body)
	}
	x.bodies = make([]byte, 0, size)
	for i, r := range recs {
		x.kinds[i], x.seqs[i] = r.kind, r.seq
		x.bodies = append(x.bodies, r.body...)
		x.ends[i] = len(x.bodies)
	}
	x.st = cloneState(s.st, false)
	x.staged = cloneConfigPtr(s.staged)
	x.pending, x.purged = cloneIntent(s.pending, false), cloneIntent(s.purged, false)
	x.cursor, x.wraps = s.cursor, s.wraps
	x.erased = slices.Clone(s.erased)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = append(c.entries, x)
	if len(c.entries) > c.max {
		c.entries = slices.Delete(c.entries, 0, len(c.entries)-c.max)
	}
}

// restore sets s's replay state to a deep copy of x's (in buffers from
// the store's pools, as a replay would leave them).
func (x *replayEntry) restore(s *Store) {
	s.st = cloneState(x.st, true)
	s.staged = cloneConfigPtr(x.staged)
	s.pending, s.purged = cloneIntent(x.pending, true), cloneIntent(x.purged, true)
	s.cursor, s.wraps = x.cursor, x.wraps
	s.erased = getFlags(len(x.erased))
	copy(s.erased, x.erased)
}

func cloneConfig(c Config) Config {
	c.Types = slices.Clone(c.Types)
	return c
}

func cloneConfigPtr(c *Config) *Config {
	if c == nil {
		return nil
	}
	d := cloneConfig(*c)
	return &d
}

// cloneState deep-copies st; pooled: chunk maps from the store's pool.
func cloneState(st State, pooled bool) State {
	st.Config = cloneConfig(st.Config)
	if st.Types != nil {
		types := make([]TypeState, len(st.Types), cap(st.Types))
		for i, t := range st.Types {
			if pooled {
				cs := getChunks(len(t.Chunks))
				copy(cs, t.Chunks)
				t.Chunks = cs
			} else {
				t.Chunks = slices.Clone(t.Chunks)
			}
			types[i] = t
		}
		st.Types = types
	}
	return st
}

// cloneIntent deep-copies in; pooled: the entry list from the store's
// pool, with the same capacity.
func cloneIntent(in *intent, pooled bool) *intent {
	if in == nil {
		return nil
	}
	d := *in
	d.config = cloneConfig(in.config)
	d.types = slices.Clone(in.types)
	for i := range d.types {
		d.types[i].Chunks = slices.Clone(d.types[i].Chunks)
	}
	d.nchunks = slices.Clone(in.nchunks)
	if pooled {
		d.entries = append(getEntries(cap(in.entries)), in.entries...)
	} else {
		d.entries = append(make([]IntentEntry, 0, cap(in.entries)), in.entries...)
	}
	return &d
}
