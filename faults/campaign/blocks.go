package campaign

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"io"
	"iter"
	"slices"
	"sync"

	"github.com/cmcsync/cmcsync/faults"
)

// hashSeed keys every hash the oracle computes (block hashes, fingerprints
// and memo keys); one per process.
var hashSeed = maphash.MakeSeed()

// fingerprint identifies a chunk's bytes for the oracle's comparisons of
// what a block holds with what a generation must hold. It is a 64-bit
// keyed hash (hash/maphash), not the store's SHA-256: the oracle compares
// contents with contents it read itself, so it needs no collision
// resistance against an adversary, and an accidental collision has
// probability 2^-64 per comparison. It runs at memory speed, where
// SHA-256 without SHA instructions took an eighth of the campaign's CPU.
func fingerprint(p []byte) uint64 { return maphash.Bytes(hashSeed, p) }

// blockFacts is what the oracle needs of one version of a block.
type blockFacts struct {
	hash   uint64
	erased bool
}

// blockKey names the first length bytes of an erase block: by chip and
// block number (version 0) for the base state, by version alone (chip and
// block 0) otherwise.
type blockKey struct {
	chip    int
	block   int64
	version uint64
	length  int64
}

// touchKey names the erase block at off on chip, in worker.touched and in
// the lists of blocks that writes cover.
func touchKey(chip int, off int64) int64 { return int64(chip)<<56 | off }

// splitTouchKey returns the chip and offset of a touchKey.
func splitTouchKey(k int64) (chip int, off int64) { return int(k >> 56), k & (1<<56 - 1) }

// blocksOf yields the offset of every erase block op covers.
func blocksOf(op faults.Op, eraseSize int64) iter.Seq[int64] {
	return func(yield func(int64) bool) {
		for off := op.Off / eraseSize * eraseSize; off < op.Off+op.Len; off += eraseSize {
			if !yield(off) {
				return
			}
		}
	}
}

// chipOf returns the chip an operation went to (0 for the primary).
func chipOf(op faults.Op) int { return int(op.Role) - 1 }

// writtenBlocks appends to dst the touchKeys of the erase blocks that
// writes cover and keep (if set, a function of its arguments alone)
// accepts, sorted, each once.
//
// A block that the previous write covered too is neither appended again
// nor given to keep again: a failover's restore programs some 25,800
// pages, 16 or more to a block in a row, and sorting them all, or asking
// keep about each (the restore's blocks are outside most callers' range),
// cost more than the rest of the function. What is left out is a
// duplicate of the key appended just before, which Compact would drop
// anyway, or a key keep rejected just before.
func (w *worker) writtenBlocks(dst []int64, writes []faults.Op, keep func(chip int, off int64) bool) []int64 {
	e := w.bench.eraseSize
	last := int64(-1) // the key seen just before (no touchKey is negative)
	for i := range writes {
		op := &writes[i]
		chip := chipOf(*op)
		for off := op.Off / e * e; off < op.Off+op.Len; off += e {
			k := touchKey(chip, off)
			if k == last {
				continue
			}
			last = k
			if keep == nil || keep(chip, off) {
				dst = append(dst, k)
			}
		}
	}
	slices.Sort(dst)
	return slices.Compact(dst)
}

// changedBlocks is writtenBlocks with the blocks the harness changed
// without an operation (flips and scribbles: worker.harness) added: every
// block that may differ from the base.
func (w *worker) changedBlocks(dst []int64, writes []faults.Op, keep func(chip int, off int64) bool) []int64 {
	for _, k := range w.harness {
		if chip, off := splitTouchKey(k); keep == nil || keep(chip, off) {
			dst = append(dst, k)
		}
	}
	return w.writtenBlocks(dst, writes, keep)
}

// hashBlocks adds each block of keys (touchKeys), with its contents'
// hash, to h; with changedOnly it leaves out blocks that hold their base
// contents (the same for every point).
func (w *worker) hashBlocks(h *maphash.Hash, keys []int64, changedOnly bool) {
	var b [16]byte
	for _, k := range keys {
		chip, off := splitTouchKey(k)
		bh := w.blockHash(chip, off)
		if changedOnly && bh == w.baseHash(chip, off) {
			continue
		}
		binary.LittleEndian.PutUint64(b[:], uint64(k))
		binary.LittleEndian.PutUint64(b[8:], bh)
		h.Write(b[:])
	}
}

// setTouched records the blocks written (or changed by the harness) since
// the base (see worker.touched).
func (w *worker) setTouched(writes []faults.Op) {
	clear(w.touched)
	last := int64(-1) // the key set just before (no touchKey is negative)
	for _, op := range writes {
		for off := range blocksOf(op, w.bench.eraseSize) {
			if k := touchKey(chipOf(op), off); k != last {
				w.touched[k] = true
				last = k
			}
		}
	}
	for _, k := range w.harness {
		w.touched[k] = true
	}
	w.lastWrites = writes
}

// blockHash returns a hash of the erase block at off on chip, cached by
// the block's version (the simulator never reuses a version).
func (w *worker) blockHash(chip int, off int64) uint64 { return w.facts(chip, off).hash }

// erased reports whether the erase block at off reads all 0xFF, cached by
// version.
func (w *worker) erased(chip int, off int64) bool { return w.facts(chip, off).erased }

// maxVersionCache bounds a worker's versionFacts and versionPrints (by
// block version, never reused, so entries of blocks rewritten since only
// take room); beyond it a cache starts afresh.
const maxVersionCache = 1 << 15

// facts reads the block at off on chip once per version (the simulator
// numbers versions process-wide and never reuses one, so the version alone
// identifies the contents).
func (w *worker) facts(chip int, off int64) blockFacts {
	e := w.bench.eraseSize
	ver := w.chips[chip].BlockVersion(off / e)
	if f, ok := w.versionFacts[ver]; ok {
		return f
	}
	var f blockFacts
	buf := w.readBuf[:e]
	if w.chips[chip].KnownErased(off / e) {
		// Most of what the oracle reads after a purge: the simulator
		// knows the block reads all 0xFF.
		f.erased = true
	} else {
		if _, err := w.chips[chip].ReadAt(buf, off); err != nil {
			return blockFacts{}
		}
		f.erased = bytes.Equal(buf, w.erasedBlock)
	}
	// An erased block has the erased block's hash: no need to hash it
	// again.
	if f.erased {
		f.hash = w.erasedHash
	} else {
		f.hash = maphash.Bytes(hashSeed, buf)
	}
	if len(w.versionFacts) >= maxVersionCache {
		clear(w.versionFacts)
	}
	w.versionFacts[ver] = f
	return f
}

// baseHash returns the hash of the block at off on chip in the base state
// (before the round), read from the worker's base chips.
func (w *worker) baseHash(chip int, off int64) uint64 {
	v, err := baseCached(w.baseHashes, &w.bench.memo.hashes, [2]int64{int64(chip), off}, func() (uint64, error) {
		buf := w.readBuf[:w.bench.eraseSize]
		if _, err := w.baseChips[chip].ReadAt(buf, off); err != nil {
			return 0, err
		}
		return maphash.Bytes(hashSeed, buf), nil
	})
	if err != nil {
		return 0
	}
	return v
}

// print returns the fingerprint of n bytes at off on chip, cached by the
// block's version (or, for a block untouched since the base, for good).
func (w *worker) print(chip int, off, n int64) (uint64, error) {
	e := w.bench.eraseSize
	if !w.touched[touchKey(chip, off/e*e)] {
		// Untouched since the base: the base contents, cached for good.
		return baseCached(w.basePrints, &w.bench.memo.prints, blockKey{chip, off / e, 0, n}, func() (uint64, error) {
			return w.readPrint(w.baseChips[chip], off, n)
		})
	}
	k := blockKey{0, 0, w.chips[chip].BlockVersion(off / e), n}
	if d, ok := w.versionPrints[k]; ok {
		return d, nil
	}
	d, err := w.readPrint(w.chips[chip], off, n)
	if err != nil {
		return 0, err
	}
	if len(w.versionPrints) >= maxVersionCache {
		clear(w.versionPrints)
	}
	w.versionPrints[k] = d
	return d, nil
}

// readPrint reads n bytes at off of chip and returns their fingerprint.
func (w *worker) readPrint(chip io.ReaderAt, off, n int64) (uint64, error) {
	buf := w.readBuf[:n]
	if _, err := chip.ReadAt(buf, off); err != nil {
		return 0, err
	}
	return fingerprint(buf), nil
}

// baseCached returns the value of a pure function of the base state: from
// local (the worker's cache), else from shared (the bench's, filling
// local), else computed and stored in both.
func baseCached[K comparable](local map[K]uint64, shared *sync.Map, key K, compute func() (uint64, error)) (uint64, error) {
	if v, ok := local[key]; ok {
		return v, nil
	}
	if v, ok := shared.Load(key); ok {
		local[key] = v.(uint64)
		return v.(uint64), nil
	}
	v, err := compute()
	if err != nil {
		return 0, err
	}
	local[key] = v
	shared.Store(key, v)
	return v, nil
}
