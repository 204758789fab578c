package engine

import (
	"math/bits"
	"sync"
)

// payloadPools recycle payload buffers between rounds (and between
// engines: a campaign opens thousands), by power-of-two capacity class.
// A round takes a buffer per record it reads and gives it back when the
// round fails or when a later round replaces it in the engine's cache.
// Reading the 8 MiB standard region into fresh slices spent more time
// zeroing them than reading them.
var payloadPools [40]sync.Pool

// payloadClass is the pool class of a buffer of n bytes: the least c
// with 1<<c >= n.
func payloadClass(n int) int { return bits.Len(uint(max(n, 1) - 1)) }

// getPayload returns a buffer of length n; its contents are unspecified.
func getPayload(n int) []byte {
	c := payloadClass(n)
	if c >= len(payloadPools) {
		return make([]byte, n)
	}
	if v, ok := payloadPools[c].Get().(*[]byte); ok {
		return (*v)[:n]
	}
	return make([]byte, n, 1<<c)
}

// putPayload gives b back to its pool; the caller must not use b again.
func putPayload(b []byte) {
	c := payloadClass(cap(b))
	if b == nil || cap(b) != 1<<c || c >= len(payloadPools) {
		return
	}
	payloadPools[c].Put(&b)
}

// Release gives the engine's buffers (the payloads of the last committed
// round, the stores' in-memory maps: see store.Store.Release) back for
// reuse by engines opened later, as a fault campaign opens thousands. The
// engine must not be used afterwards. Release is optional.
func (e *Engine) Release() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range e.cache {
		putPayload(p)
	}
	e.cache = nil
	e.newestState.Types = nil // shares the stores' chunk maps
	for i, s := range e.stores {
		if s != nil {
			s.Release()
			e.stores[i] = nil
		}
	}
}
