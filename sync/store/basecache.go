// Keeping the committed contents of recently written chunks in memory, so
// that planning a chunk's delta reads neither its base nor its chain of
// delta records from the backup.

package store

// baseCacheLimit bounds the bytes the cache holds (the engine's heap
// target: a round on a 32 MiB region within 32 MiB).
const baseCacheLimit = 16 << 20

// cachedChunk is a chunk's contents as a round committed them, with their
// digest.
type cachedChunk struct {
	digest Digest
	data   []byte
}

// baseCache maps (type, chunk index) to the chunk's contents as last
// committed by this Store. An entry is only ever used when its digest is
// the committed chunk's (lookup): the committed state may have moved on by
// any path (a purge, a failover, damage repaired) without the cache being
// told, and an entry that does not match is ignored. Entries are added at
// the commit of the round that wrote them; once the cache holds
// baseCacheLimit bytes, new chunks are not added (their entries keep being
// replaced).
type baseCache struct {
	entries map[[2]uint32]cachedChunk
	bytes   int64
}

// lookup returns the committed contents of chunk i of type t, n bytes
// long, whose committed digest is d, if the cache holds them.
func (c *baseCache) lookup(t uint8, i int, n int, d Digest) ([]byte, bool) {
	e, ok := c.entries[[2]uint32{uint32(t), uint32(i)}]
	if !ok || len(e.data) != n || e.digest != d {
		return nil, false
	}
	return e.data, true
}

// put records data (kept, not copied) as the committed contents of chunk
// i of type t.
func (c *baseCache) put(t uint8, i int, data []byte) {
	k := [2]uint32{uint32(t), uint32(i)}
	old, had := c.entries[k]
	if !had && c.bytes+int64(len(data)) > baseCacheLimit {
		return
	}
	if c.entries == nil {
		c.entries = map[[2]uint32]cachedChunk{}
	}
	c.bytes += int64(len(data)) - int64(len(old.data))
	c.entries[k] = cachedChunk{digest: ChunkDigest(data), data: data}
}

// room reports whether the cache would take n more bytes for chunk i of
// type t beyond pending bytes already set aside (an entry it holds is
// replaced, so always has room).
func (c *baseCache) room(t uint8, i int, n, pending int64) bool {
	if _, had := c.entries[[2]uint32{uint32(t), uint32(i)}]; had {
		return true
	}
	return c.bytes+pending+n <= baseCacheLimit
}

// noteCommitted keeps data (copy: false, already a copy the round owns)
// as what the round commits for chunk i of type t, added to the cache at
// the commit, when deltas are in use and the cache has room: the copies a
// round holds are bounded as the cache is.
func (r *Round) noteCommitted(t uint8, i int, data []byte, copyData bool) {
	s := r.store
	if data == nil || !s.deltasUsable() || !s.cache.room(t, i, int64(len(data)), r.commitBytes) {
		return
	}
	if copyData {
		data = append([]byte(nil), data...)
	}
	if r.commits == nil {
		r.commits = map[[2]uint32][]byte{}
	}
	k := [2]uint32{uint32(t), uint32(i)}
	r.commitBytes += int64(len(data) - len(r.commits[k]))
	r.commits[k] = data
}

// cacheCommitted moves the round's chunk contents into the store's cache
// (the round committed).
func (r *Round) cacheCommitted() {
	for k, data := range r.commits {
		r.store.cache.put(uint8(k[0]), int(k[1]), data)
	}
	r.commits = nil
}
