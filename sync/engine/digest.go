package engine

import (
	"bytes"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// chunkDigests returns the chunk digests and checks of t's new payload.
// Only chunks that changed since the committed generation are hashed with
// SHA-256: a chunk equal byte for byte to the payload kept from the last
// round (same source chip, same generation), or whose fast check
// (store.ChunkCheck) equals the committed chunk's, takes the committed
// digest. checks, if not nil, are the chunks' checks already computed
// (readRecord computes them to check the payload CRC); they are returned.
func (e *Engine) chunkDigests(bk *store.Store, active int, t info.Type, p []byte, checks []uint64, phase, chunk int64) ([]store.Digest, []uint64) {
	st := bk.StateRef()
	ts, have := st.Type(uint8(t))
	if have && int64(ts.Phase) != phase {
		have = false
	}
	old, cached := e.cache[t]
	cached = cached && have && e.cacheChip == active && e.cacheGeneration == st.Generation && ts.Size == int64(len(old))
	size := int64(len(p))
	n := store.ChunkCount(size, phase, chunk)
	ds := make([]store.Digest, n)
	given := checks != nil
	if !given {
		checks = make([]uint64, n)
	}
	for i := range n {
		lo, hi := store.ChunkBounds(size, phase, chunk, i)
		if have && i < len(ts.Chunks) {
			olo, ohi := store.ChunkBounds(ts.Size, phase, chunk, i)
			if olo == lo && ohi == hi {
				c := ts.Chunks[i]
				if !given && cached && bytes.Equal(p[lo:hi], old[lo:hi]) {
					ds[i], checks[i] = c.Digest, c.Check
					continue
				}
				if !given {
					checks[i] = store.ChunkCheck(p[lo:hi])
				}
				if c.Check != 0 && checks[i] == c.Check {
					ds[i] = c.Digest
					continue
				}
				ds[i] = e.opts.Digests.Digest(p[lo:hi])
				continue
			}
		}
		if !given {
			checks[i] = store.ChunkCheck(p[lo:hi])
		}
		ds[i] = e.opts.Digests.Digest(p[lo:hi])
	}
	return ds, checks
}

// remember keeps the payloads a round committed as generation gen, to
// compare the next round's against (see chunkDigests). Entries of other
// types stay valid if the cache was valid for prev, the generation the
// round started from.
func (e *Engine) remember(active int, prev, gen uint64, payloads map[uint8][]byte) {
	if e.noCache {
		// The change tables say what changed: no copy is kept.
		for _, p := range payloads {
			putPayload(p)
		}
		for t := range e.cache {
			e.dropCached(t)
		}
		return
	}
	if e.cache == nil || e.cacheChip != active || e.cacheGeneration != prev {
		for _, p := range e.cache {
			putPayload(p)
		}
		e.cache = map[info.Type][]byte{}
	}
	for t, p := range payloads {
		if old, ok := e.cache[info.Type(t)]; ok {
			putPayload(old)
		}
		e.cache[info.Type(t)] = p
	}
	e.cacheChip, e.cacheGeneration = active, gen
}

// dropCached forgets the cached payload of t (a round read t through its
// change table: the copy no longer describes the committed generation).
func (e *Engine) dropCached(t info.Type) {
	if p, ok := e.cache[t]; ok {
		putPayload(p)
		delete(e.cache, t)
	}
}
