// Buffer and map pools: what opening many stores one after another (a fault
// campaign) would otherwise allocate again each time.

package store

import (
	"math/bits"
	"sync"
)

// chunkPools recycle chunk maps between a store given back with Release and the stores opened
// after it (a campaign opens thousands). A map of capacity c is kept in
// class bits.Len(c)-1 (capacities [2^k, 2^(k+1)) in class k); maps are
// allocated at their exact length, so a store that is never released
// costs no more than its chunks.
var chunkPools [32]sync.Pool // *[]Chunk

// pooledChunks returns a chunk map of length n > 0 from the pools (its
// contents unspecified), or nil.
func pooledChunks(n int) []Chunk {
	lo := bits.Len(uint(n)) - 1 // holds capacities from 2^lo: may be too small
	hi := bits.Len(uint(n - 1)) // holds capacities from 2^hi >= n
	if lo < len(chunkPools) {
		if v, ok := chunkPools[lo].Get().(*[]Chunk); ok {
			if cap(*v) >= n {
				return (*v)[:n]
			}
			chunkPools[lo].Put(v)
		}
	}
	if hi != lo && hi < len(chunkPools) {
		if v, ok := chunkPools[hi].Get().(*[]Chunk); ok {
			return (*v)[:n]
		}
	}
	return nil
}

// getChunkMaps sets maps[i] to a chunk map of length ns[i] for every i
// with ns[i] >= 0, its contents unspecified (the caller fills every
// chunk): from the pools, the rest carved from one new allocation (a
// store's first full sync holds thousands of chunks in a few types).
func getChunkMaps(ns []int, maps [][]Chunk) {
	missing := 0
	for i, n := range ns {
		switch {
		case n < 0:
		case n == 0:
			maps[i] = []Chunk{}
		default:
			if maps[i] = pooledChunks(n); maps[i] == nil {
				missing += n
			}
		}
	}
	if missing == 0 {
		return
	}
	slab := make([]Chunk, missing)
	for i, n := range ns {
		if n > 0 && maps[i] == nil {
			maps[i], slab = slab[:n:n], slab[n:]
		}
	}
}

// putChunks gives cs back for reuse; the caller must not use it again.
func putChunks(cs []Chunk) {
	c := bits.Len(uint(cap(cs))) - 1
	if cap(cs) == 0 || c >= len(chunkPools) {
		return
	}
	chunkPools[c].Put(&cs)
}

// recordPool recycles the record lists journal scans build (a store keeps
// the one it replayed as its log until Release).
var recordPool sync.Pool // *[]record

// getRecords returns an empty record list with room for a journal's
// worth of records.
func getRecords() []record {
	if v, ok := recordPool.Get().(*[]record); ok {
		return (*v)[:0]
	}
	return make([]record, 0, 64)
}

// putRecords gives rs back for reuse; the caller must not use it again.
func putRecords(rs []record) {
	if cap(rs) > 0 {
		clear(rs[:cap(rs)]) // no bodies kept alive in the pool
		rs = rs[:0]
		recordPool.Put(&rs)
	}
}

// blockBufs hands out erase-block-sized buffers carved from pooled slabs
// of slabBlocks blocks, so that opening a store (thousands of times in a
// fault campaign) allocates almost nothing for the journal it reads.
// Buffers are valid until release; their contents are unspecified.
type blockBufs struct {
	blockSize int64
	slabs     []*[]byte
	rest      []byte
	areas     []*[]byte // from areaPool
}

const slabBlocks = 16

var slabPool sync.Pool // *[]byte of any length; get checks the size

func (b *blockBufs) get() []byte {
	if int64(len(b.rest)) < b.blockSize {
		want := int(b.blockSize) * slabBlocks
		var sp *[]byte
		if v, ok := slabPool.Get().(*[]byte); ok && len(*v) == want {
			sp = v
		} else {
			x := make([]byte, want)
			sp = &x
		}
		b.slabs = append(b.slabs, sp)
		b.rest = *sp
	}
	x := b.rest[:b.blockSize:b.blockSize]
	b.rest = b.rest[b.blockSize:]
	return x
}

// areaPool recycles the buffers journal areas are read into (whole, in
// one read): *[]byte of any length; area checks the size.
var areaPool sync.Pool

// area returns a buffer of n bytes (a journal area), valid until release.
func (b *blockBufs) area(n int64) []byte {
	var ap *[]byte
	if v, ok := areaPool.Get().(*[]byte); ok && int64(cap(*v)) >= n {
		ap = v
	} else {
		x := make([]byte, n)
		ap = &x
	}
	b.areas = append(b.areas, ap)
	return (*ap)[:n]
}

// release gives every slab and area buffer back; no buffer from b may be
// used after it.
func (b *blockBufs) release() {
	for _, sp := range b.slabs {
		slabPool.Put(sp)
	}
	for _, ap := range b.areas {
		areaPool.Put(ap)
	}
	b.slabs, b.rest, b.areas = nil, nil, nil
}
