// Applying a committed intent to the committed types: the general path
// (applyIntent) and the replay's in-place path (applyIntentOwned).

package store

import (
	"fmt"
	"slices"
)

// applyIntentOwned is applyIntent for the replay, where nothing outside
// the store refers to s.committed's chunk maps yet: it checks everything first
// (in.check, made as the records came, or now), then updates the maps in
// place (no copy of every type's map per commit), reading the entries
// straight from their encoded form (in.raw). It adds the blocks of spare
// entries to spares, if not nil. On error s.committed is unchanged, and the error
// is the one applyIntent would return.
func (s *Store) applyIntentOwned(in *intent, spares blockSet) ([]TypeState, error) {
	c := in.check
	if c == nil && len(in.entries) == 0 {
		if c = newRawCheck(in, s.committed.Types, false); c != nil {
			for _, p := range in.raw {
				c.add(p)
			}
		}
	}
	if c == nil || len(in.entries) > 0 || len(in.deltas) > 0 {
		types, err := s.applyIntentDecoded(in)
		if err == nil && spares != nil {
			for _, p := range in.raw {
				for q := 0; q+intentEntrySize <= len(p); q += intentEntrySize {
					if p[q+ieType] == SpareType {
						spares.add(le.Uint32(p[q+ieBlock:]))
					}
				}
			}
			for i := range in.entries {
				if x := &in.entries[i]; x.Type == SpareType {
					spares.add(x.Block)
				}
			}
		}
		return types, err
	}
	if err := c.result(in); err != nil {
		return nil, err
	}
	if err := s.checkIntentDigests(in, c); err != nil && !s.opts.TrustRecords {
		return nil, err
	}
	types := s.committed.Types
	if c.fused {
		// The new maps are filled: install them.
		for i, nt := range in.types {
			nt.Chunks = c.maps[i]
			c.maps[i] = nil
			if c.committedIndex[i] >= 0 {
				putChunks(types[c.committedIndex[i]].Chunks) // nothing else refers to it during the replay
				types[c.committedIndex[i]] = nt
			} else {
				types = append(types, nt)
			}
		}
		c.fused = false
		if spares != nil {
			for _, b := range c.spares {
				spares.add(b) // erased with its window, still free
			}
		}
		sortTypes(types)
		return types, nil
	}
	// Apply.
	var maps [maxTypes][]Chunk
	var fresh [maxTypes]int // length of a new map; -1: updated in place
	for i := range in.types {
		fresh[i] = in.chunkCounts[i]
		if c.committedIndex[i] >= 0 {
			if old := types[c.committedIndex[i]].Chunks; old != nil && in.chunkCounts[i] <= cap(old) {
				fresh[i] = -1
			}
		}
	}
	getChunkMaps(fresh[:len(in.types)], maps[:len(in.types)])
	for i, nt := range in.types {
		n := in.chunkCounts[i]
		var old []Chunk
		if c.committedIndex[i] >= 0 {
			old = types[c.committedIndex[i]].Chunks
		}
		// Entries fill every chunk past the old length.
		if fresh[i] < 0 {
			nt.Chunks = old[:n]
		} else {
			nt.Chunks = maps[i]
			copy(nt.Chunks, old)
			putChunks(old) // nothing else refers to it during the replay
		}
		if c.committedIndex[i] >= 0 {
			types[c.committedIndex[i]] = nt
		} else {
			types = append(types, nt)
		}
		maps[i] = nt.Chunks
	}
	for _, p := range in.raw {
		for ; len(p) >= intentEntrySize; p = p[intentEntrySize:] {
			e := p[:intentEntrySize]
			t := e[ieType]
			if t == SpareType {
				if spares != nil {
					spares.add(le.Uint32(e[ieBlock:])) // erased with its window, still free
				}
				continue
			}
			ch := &maps[(c.position[t]-1)&(maxTypes-1)][le.Uint32(e[ieIndex:])]
			ch.Block = le.Uint32(e[ieBlock:])
			ch.Check = le.Uint64(e[ieCheck:])
			ch.Digest = Digest(e[ieDigest:])
			ch.Deltas = nil
		}
	}
	sortTypes(types)
	return types, nil
}

// applyIntentDecoded is applyIntent on a copy of in whose entries are all
// decoded.
func (s *Store) applyIntentDecoded(in *intent) ([]TypeState, error) {
	d := *in
	d.entries = slices.Clone(in.entries)
	d.decodeRaw()
	return s.applyIntent(&d)
}

// applyIntent returns the committed types after applying in to s.committed.
func (s *Store) applyIntent(in *intent) ([]TypeState, error) {
	types := make([]TypeState, 0, len(s.committed.Types)+len(in.types))
	types = append(types, s.committed.Types...)
	// slot[t] is the index in types of the new state of type t, + 1.
	var slot [256]int
	var have [256][]bool
	var kept [256]int    // chunks kept from the committed map (delta bases)
	var phase [256]int64 // the committed phase, -1: none
	for i, nt := range in.types {
		n := in.chunkCounts[i]
		var old []Chunk
		idx := -1
		for j := range types {
			if types[j].Type == nt.Type {
				idx = j
				old = types[j].Chunks
			}
		}
		chunks := make([]Chunk, n)
		h := make([]bool, n)
		k := copy(chunks, old)
		kept[nt.Type], phase[nt.Type] = k, -1
		if idx >= 0 {
			phase[nt.Type] = int64(types[idx].Phase)
		}
		for j := range k {
			h[j] = true
		}
		nt.Chunks = chunks
		if idx >= 0 {
			types[idx] = nt
		} else {
			types = append(types, nt)
			idx = len(types) - 1
		}
		slot[nt.Type] = idx + 1
		have[nt.Type] = h
	}
	var named [256][]bool
	for _, x := range in.entries {
		if x.Type == SpareType {
			continue
		}
		k := slot[x.Type]
		if k == 0 {
			return nil, fmt.Errorf("%w: intent writes a chunk of type %d it does not describe", ErrCorrupt, x.Type)
		}
		t := &types[k-1]
		if int(x.Index) >= len(t.Chunks) {
			return nil, fmt.Errorf("%w: intent writes chunk %d of type %d beyond its %d chunks", ErrCorrupt, x.Index, x.Type, len(t.Chunks))
		}
		if named[x.Type] == nil {
			named[x.Type] = make([]bool, len(t.Chunks))
		}
		if named[x.Type][x.Index] {
			return nil, fmt.Errorf("%w: intent writes chunk %d of type %d twice", ErrCorrupt, x.Index, x.Type)
		}
		named[x.Type][x.Index] = true
		t.Chunks[x.Index] = Chunk{Block: x.Block, Check: x.Check, Digest: x.Digest}
		have[x.Type][x.Index] = true
	}
	if err := applyDeltaEntries(in, types, &slot, &kept, &phase, &named, deltaChainLimit(s.layout.Version)); err != nil {
		return nil, err
	}
	for _, nt := range in.types {
		for j, ok := range have[nt.Type] {
			if !ok {
				return nil, fmt.Errorf("%w: type %d chunk %d has no block", ErrCorrupt, nt.Type, j)
			}
		}
	}
	for _, nt := range in.types {
		if t := &types[slot[nt.Type]-1]; !s.opts.TrustRecords && payloadDigestOf(t.Size, t.Chunks) != t.Digest {
			return nil, digestError(nt.Type)
		}
	}
	sortTypes(types)
	return types, nil
}

// digestError is the error of a type whose payload digest is not that of
// its size and chunk digests (docs/FORMAT.md, Chunks and digests).
func digestError(t uint8) error {
	return fmt.Errorf("%w: type %d: the payload digest is not that of its size and chunk digests", ErrCorrupt, t)
}

// checkIntentDigests checks, before in is applied to the committed
// types, that each type's new payload digest is that of its new chunk
// digests: the committed chunks it keeps and those its raw entries (which
// c has checked) write.
func (s *Store) checkIntentDigests(in *intent, c *rawCheck) error {
	if c.fused {
		for i, nt := range in.types {
			if payloadDigestOf(nt.Size, c.maps[i]) != nt.Digest {
				return digestError(nt.Type)
			}
		}
		return nil
	}
	var ds [maxTypes][]Digest
	for i := range in.types {
		ds[i] = make([]Digest, in.chunkCounts[i])
		if c.committedIndex[i] >= 0 {
			for j, ch := range s.committed.Types[c.committedIndex[i]].Chunks[:c.keptLen[i]] {
				ds[i][j] = ch.Digest
			}
		}
	}
	for _, p := range in.raw {
		for ; len(p) >= intentEntrySize; p = p[intentEntrySize:] {
			if t := p[ieType]; t != SpareType {
				ds[(c.position[t]-1)&(maxTypes-1)][le.Uint32(p[ieIndex:])] = Digest(p[ieDigest:intentEntrySize])
			}
		}
	}
	for i, nt := range in.types {
		if PayloadDigest(nt.Size, ds[i]) != nt.Digest {
			return digestError(nt.Type)
		}
	}
	return nil
}

func sortTypes(ts []TypeState) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Type < ts[j-1].Type; j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}
