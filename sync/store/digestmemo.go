package store

import "sync"

// DigestMemo remembers chunk digests by the chunk's exact bytes, for a
// fault harness that opens many stores on nearly the same contents and
// would otherwise hash the same chunks again for each (Options.Digests).
// The key is the whole chunk, never a prefix or a short hash of it: a hit
// costs a map lookup and a full comparison of the bytes, and the digest
// returned is always the SHA-256 of exactly those bytes, so a chunk that
// differs in any bit misses and is hashed afresh (damage cannot hide
// behind the memo). It holds at most its limit of key bytes; once that is
// reached it starts empty again. Safe for concurrent use; nil is a memo
// that remembers nothing.
type DigestMemo struct {
	mu    sync.RWMutex // readers look up; a miss takes it to add
	m     map[string]Digest
	held  int64
	limit int64
}

// DefaultDigestMemoLimit bounds a memo's key bytes unless NewDigestMemo
// is told otherwise.
const DefaultDigestMemoLimit = 64 << 20

// NewDigestMemo returns an empty memo holding at most limit bytes of
// chunks (DefaultDigestMemoLimit if limit <= 0).
func NewDigestMemo(limit int64) *DigestMemo {
	if limit <= 0 {
		limit = DefaultDigestMemoLimit
	}
	return &DigestMemo{m: map[string]Digest{}, limit: limit}
}

// Digest returns ChunkDigest(p), from the memo when it holds p's bytes.
func (dm *DigestMemo) Digest(p []byte) Digest {
	if dm == nil {
		return ChunkDigest(p)
	}
	dm.mu.RLock()
	d, ok := dm.m[string(p)]
	dm.mu.RUnlock()
	if ok {
		return d
	}
	d = ChunkDigest(p)
	dm.mu.Lock()
	if dm.held+int64(len(p)) > dm.limit {
		clear(dm.m)
		dm.held = 0
	}
	if _, ok := dm.m[string(p)]; !ok {
		dm.m[string(p)] = d
		dm.held += int64(len(p))
	}
	dm.mu.Unlock()
	return d
}

// Len returns how many chunks the memo holds.
func (dm *DigestMemo) Len() int {
	if dm == nil {
		return 0
	}
	dm.mu.Lock()
	defer dm.mu.Unlock()
	return len(dm.m)
}
