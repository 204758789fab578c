// The replay's check of an intent's entries in their encoded form, made as
// the intent's records are replayed, and the fused chunk maps it fills.

package store

import (
	"fmt"
	"math/bits"
)

// rawCheck is applyIntent's check of an intent's entries, made on their
// encoded form as the replay meets them: every entry names a described
// type and a chunk within it, no chunk twice, and every chunk beyond the
// committed map gets a block. Its tables are per position in the intent's
// types.
type rawCheck struct {
	position       [256]uint8 // 1 + position of each described type; 0: not described
	described      int        // described types
	committedIndex [maxTypes]int
	chunkCount     [maxTypes]int // new chunk count
	keptLen        [maxTypes]int // chunks kept from the committed map
	namedBase      [maxTypes]int // first bit of the type's chunks in named
	// named: one bit per chunk of the new count, by type: named by an
	// entry.
	named []uint64
	err   error // the first entry in error, in entry order
	// fused: every type gets a new chunk map (none is updated in place),
	// made when the intent is met and filled as its entries come (the
	// committed chunks first): a commit only installs them. spares are
	// the blocks of spare entries met.
	fused  bool
	maps   [maxTypes][]Chunk
	spares []uint32
}

// newRawCheck prepares the check of in's entries against the committed
// types, fused if fuse and no map is updated in place (then addFused must
// see every entry); nil if in lists a type twice or too many (the general
// path, applyIntent, decides then).
func newRawCheck(in *intent, committed []TypeState, fuse bool) *rawCheck {
	if len(in.types) > maxTypes {
		return nil
	}
	c := &rawCheck{described: len(in.types)}
	bitsN := 0
	for i, nt := range in.types {
		if c.position[nt.Type] != 0 {
			return nil
		}
		c.position[nt.Type] = uint8(i + 1)
		c.chunkCount[i] = in.chunkCounts[i]
		c.committedIndex[i] = -1
		for j := range committed {
			if committed[j].Type == nt.Type {
				c.committedIndex[i] = j
			}
		}
		if c.committedIndex[i] >= 0 {
			c.keptLen[i] = min(len(committed[c.committedIndex[i]].Chunks), in.chunkCounts[i])
		}
		c.namedBase[i] = bitsN
		bitsN += in.chunkCounts[i]
	}
	c.named = make([]uint64, (bitsN+63)/64)
	if !fuse {
		return c
	}
	// Fused unless a type's map is updated in place (its new length fits
	// the committed map: a small round).
	var ns [maxTypes]int
	for i := range in.types {
		if c.committedIndex[i] >= 0 {
			if old := committed[c.committedIndex[i]].Chunks; old != nil && in.chunkCounts[i] <= cap(old) {
				return c
			}
		}
		ns[i] = in.chunkCounts[i]
	}
	c.fused = true
	getChunkMaps(ns[:c.described], c.maps[:c.described])
	for i := range in.types {
		if c.committedIndex[i] >= 0 {
			copy(c.maps[i], committed[c.committedIndex[i]].Chunks) // entries fill the rest
		}
	}
	return c
}

// dropCheck forgets in.check, giving its chunk maps back for reuse (the
// intent was not committed).
func (in *intent) dropCheck() {
	if c := in.check; c != nil && c.fused {
		for i := range c.described {
			putChunks(c.maps[i])
			c.maps[i] = nil
		}
		c.fused = false
	}
	in.check = nil
}

// add checks the entries of p (bytes from splitIntentChunks), which
// follow those already added.
func (c *rawCheck) add(p []byte) {
	for ; len(p) >= intentEntrySize && c.err == nil; p = p[intentEntrySize:] {
		if t := p[ieType]; t != SpareType {
			c.entry(t, le.Uint32(p[ieIndex:]))
		}
	}
}

// addFused is add, and for a fused check also fills the new chunk maps and
// notes the spare blocks.
func (c *rawCheck) addFused(p []byte) {
	if !c.fused {
		c.add(p)
		return
	}
	named := c.named
	for ; len(p) >= intentEntrySize && c.err == nil; p = p[intentEntrySize:] {
		e := p[:intentEntrySize]
		t := e[ieType]
		if t == SpareType {
			c.spare(le.Uint32(e[ieBlock:]))
			continue
		}
		x := le.Uint32(e[ieIndex:])
		i := int(c.position[t]) - 1
		if i < 0 || int64(x) >= int64(c.chunkCount[i&(maxTypes-1)]) {
			c.fail(t, x)
			break
		}
		i &= maxTypes - 1
		k := c.namedBase[i] + int(x)
		if named[k>>6]&(1<<(k&63)) != 0 {
			c.twice(t, x)
			break
		}
		named[k>>6] |= 1 << (k & 63)
		ch := &c.maps[i][x]
		ch.Block = le.Uint32(e[ieBlock:])
		ch.Check = le.Uint64(e[ieCheck:])
		ch.Digest = Digest(e[ieDigest:])
		ch.Deltas = nil
	}
}

// spare notes the block of a spare entry.
//
//go:noinline
func (c *rawCheck) spare(b uint32) { c.spares = append(c.spares, b) }

// entry checks one entry that is not a spare.
func (c *rawCheck) entry(t uint8, x uint32) {
	i := int(c.position[t]) - 1
	if i < 0 || int64(x) >= int64(c.chunkCount[i]) {
		c.fail(t, x)
		return
	}
	k := c.namedBase[i] + int(x)
	if c.named[k>>6]&(1<<(k&63)) != 0 {
		c.twice(t, x)
		return
	}
	c.named[k>>6] |= 1 << (k & 63)
}

// delta checks a delta entry (chunk x of type t) of an intent-deltas
// record as the record comes (docs/FORMAT.md, Deltas: the record's
// preconditions): a type of the intent, an index below its new count, a
// committed base (the type committed at the same phase, with that chunk,
// whose chain has fewer than chainLimit records), a chunk no earlier entry
// of the intent named (in any record kind); it notes the chunk named, so
// that a later entry naming it is refused at its record. The commit checks
// all of it again (applyDeltaEntries).
func (c *rawCheck) delta(in *intent, committed []TypeState, t uint8, x uint32, chainLimit int) error {
	i := int(c.position[t]) - 1
	switch {
	case i < 0:
		return fmt.Errorf("%w: intent writes a delta of type %d it does not describe", ErrCorrupt, t)
	case int64(x) >= int64(c.chunkCount[i]):
		return fmt.Errorf("%w: intent writes a delta of chunk %d of type %d beyond its %d chunks", ErrCorrupt, x, t, c.chunkCount[i])
	case int64(x) >= int64(c.keptLen[i]) || committed[c.committedIndex[i]].Phase != in.types[i].Phase:
		return fmt.Errorf("%w: intent writes a delta of chunk %d of type %d, which has no committed base", ErrCorrupt, x, t)
	}
	k := c.namedBase[i] + int(x)
	if c.named[k>>6]&(1<<(k&63)) != 0 {
		return fmt.Errorf("%w: intent writes chunk %d of type %d twice", ErrCorrupt, x, t)
	}
	if n := len(committed[c.committedIndex[i]].Chunks[x].Deltas); n >= chainLimit {
		return fmt.Errorf("%w: intent writes delta %d of chunk %d of type %d, at most %d are allowed", ErrCorrupt, n+1, x, t, chainLimit)
	}
	c.named[k>>6] |= 1 << (k & 63)
	return nil
}

// twice records the error of an entry that names a chunk an earlier entry
// of the intent named.
func (c *rawCheck) twice(t uint8, x uint32) {
	c.err = fmt.Errorf("%w: intent writes chunk %d of type %d twice", ErrCorrupt, x, t)
}

// fail records the error of an entry that names a type not described or
// a chunk beyond its type's count.
func (c *rawCheck) fail(t uint8, x uint32) {
	i := int(c.position[t]) - 1
	if i < 0 {
		c.err = fmt.Errorf("%w: intent writes a chunk of type %d it does not describe", ErrCorrupt, t)
		return
	}
	c.err = fmt.Errorf("%w: intent writes chunk %d of type %d beyond its %d chunks", ErrCorrupt, x, t, c.chunkCount[i])
}

// result returns the check's error, if any, for the intent's types.
func (c *rawCheck) result(in *intent) error {
	if c.err != nil {
		return c.err
	}
	for i, nt := range in.types {
		lo := c.namedBase[i] + c.keptLen[i]
		if j := firstClear(c.named, lo, c.namedBase[i]+c.chunkCount[i]); j >= 0 {
			return fmt.Errorf("%w: type %d chunk %d has no block", ErrCorrupt, nt.Type, j-c.namedBase[i])
		}
	}
	return nil
}

// firstClear returns the first bit in [lo, hi) of b that is clear, or -1.
func firstClear(b []uint64, lo, hi int) int {
	for lo < hi {
		w := ^b[lo>>6] >> (lo & 63) // the bits from lo on, set where clear
		if n := 64 - lo&63; hi-lo < n {
			w &= 1<<(hi-lo) - 1
			n = hi - lo
		} else if w == 0 {
			lo += n
			continue
		}
		if w != 0 {
			return lo + bits.TrailingZeros64(w)
		}
		lo = hi
	}
	return -1
}
