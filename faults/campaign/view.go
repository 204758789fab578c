package campaign

import (
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// storeView is what the reference decoder (faults/reference, written from
// docs/FORMAT.md alone, sharing no code with sync/store) reads of a
// chip's backup store: the committed state, the pending (interrupted)
// round, the staged configuration and where the data area lies.
type storeView struct {
	generation uint64
	state      reference.State
	pending    *reference.Intent
	staged     *reference.Config
	dataOff    int64
	dataSize   int64
	refSet     map[int64]bool
	err        error
	backup     *reference.Backup
	// id names the view in memo keys (a view decoded again gets a new
	// one), so that keys do not hold views alive.
	id uint64
}

// viewIDs numbers views.
var viewIDs atomic.Uint64

// decodeHook, if set, sees every store the oracle reads (decoded afresh or
// taken from the views cache, so that what it sees of a case does not
// depend on which cases ran before on the same worker): the
// replay line of the case being judged, the chip it read, the store's
// range, what the reference decoder made of it, and, if a second reader
// could rightly read something else, why ("" if not):
// a torn area whose cells read differently from read to read, or a state
// the self-test made wrong on purpose. Tests set it, before any campaign
// runs, to cross-check the reference decoder with the store's own reader
// (package crosscheck). It runs inside the oracle's quiet reads and may
// read chip.
var decodeHook func(line string, chip hal.Flash, storeOff, storeSize int64, b *reference.Backup, err error, skip string)

// viewKey names a decoded view: the chip and a hash of its store's
// metadata blocks that differ from the base.
type viewKey struct {
	chip         int
	metadataHash uint64
}

// viewCache holds decoded views by viewKey, shared by a bench's workers
// (the key names contents relative to the base they share). Views in it
// are never modified.
type viewCache struct {
	mu    sync.Mutex
	views map[viewKey]*storeView
}

// maxViews bounds a viewCache (a view holds a chunk map of the whole
// region); beyond it the cache starts afresh.
const maxViews = 256

func (c *viewCache) get(k viewKey) (*storeView, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.views[k]
	return v, ok
}

func (c *viewCache) put(k viewKey, v *storeView) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.views == nil || len(c.views) >= maxViews {
		c.views = map[viewKey]*storeView{}
	}
	c.views[k] = v
}

// view returns what the reference decoder reads on chip, cached by the
// contents of the store's metadata (the reference decoder reads whole
// journal areas: a few milliseconds a store). writes are all the programs
// and erases since the base: blocks they did not touch hold the base
// contents.
func (w *worker) view(chip int, writes []faults.Op) *storeView {
	var v *storeView
	w.quiet(func() {
		key, ok := w.journalKey(chip, writes)
		ok = ok && !w.untracedWrites
		if ok {
			if c, hit := w.bench.memo.views.get(key); hit {
				v = c
				w.seen(chip, v.backup, v.err)
				return
			}
		}
		v = w.decode(chip)
		// A store whose superblock copies differ was read with the pair
		// of the other chip's store (decodeChip): the key does not name
		// it, so the view is not shared.
		if ok && v.err == nil && !copiesDiffer(v.backup) {
			v.refs() // computed now: the view is shared from here on
			w.bench.memo.views.put(key, v)
		}
	})
	return v
}

// decode reads chip's store with the reference decoder, as the engine
// must: knowing the chip's identity (decodeChip).
func (w *worker) decode(chip int) *storeView {
	l := w.bench.layout
	b, err := decodeChip(w.chips[chip], w.chips[1-chip], chip, l.StoreOff, l.StoreSize)
	w.seen(chip, b, err)
	return viewOf(b, err)
}

// seen hands a store the oracle read (decoded afresh, or from the views
// cache) to decodeHook, if set.
func (w *worker) seen(chip int, b *reference.Backup, err error) {
	if decodeHook == nil {
		return
	}
	skip := ""
	switch {
	case !w.stable:
		skip = "unstable cells"
	case w.tamper != nil:
		skip = "a self-test state"
	}
	l := w.bench.layout
	decodeHook(w.caseLine, w.chips[chip], l.StoreOff, l.StoreSize, b, err, skip)
}

// viewOf makes a view of a decoded store.
func viewOf(b *reference.Backup, err error) *storeView {
	if err != nil {
		return &storeView{err: err}
	}
	v := &storeView{backup: b, state: b.Committed, pending: b.Pending, staged: b.Staged, generation: b.Committed.Generation, id: viewIDs.Add(1)}
	v.dataOff, v.dataSize = b.DataRange()
	return v
}

// journalKey fingerprints the store's metadata (superblocks and journal
// areas: all the decoder reads) on chip by the contents of its blocks that
// writes touched and that differ from the base.
func (w *worker) journalKey(chip int, writes []faults.Op) (viewKey, bool) {
	lo, size := w.bench.journalOff, w.bench.journalSize
	if size == 0 {
		return viewKey{}, false
	}
	blocks := w.changedBlocks(nil, writes, func(c int, off int64) bool { return c == chip && off >= lo && off < lo+size })
	var h maphash.Hash
	h.SetSeed(hashSeed)
	w.hashBlocks(&h, blocks, true)
	return viewKey{chip, h.Sum64()}, true
}

// refs returns the chip offsets of the data blocks the view's committed
// generation references.
func (v *storeView) refs() map[int64]bool {
	if v.refSet == nil {
		n := 0
		for _, ts := range v.state.Types {
			n += len(ts.Chunks)
		}
		v.refSet = make(map[int64]bool, n)
		for _, ts := range v.state.Types {
			for _, c := range ts.Chunks {
				v.refSet[v.blockOffset(c.Block)] = true
				for _, d := range c.Deltas {
					v.refSet[v.blockOffset(d.Block)] = true
				}
			}
		}
	}
	return v.refSet
}

// blockOffset returns the chip offset of data block d.
func (v *storeView) blockOffset(d uint32) int64 {
	return v.backup.BlockOffset(d)
}

// engineConfig is the engine's form of a configuration the reference
// decoder read.
func engineConfig(c reference.Config) engine.Config {
	ec := engine.Config{Interval: c.Interval, Threshold: c.Threshold, Verify: c.Verify, GroupSize: int(c.GroupSize), RetryAtOnce: c.RetryAtOnce}
	for _, t := range c.Types {
		ec.Types = append(ec.Types, info.Type(t))
	}
	return ec
}

// noteCase notes the case the worker runs now, for decodeHook and for
// view: damage before the round lets the engine's Open write (purge a
// round the damage exposed, compact) while the round phase's injector is
// still disarmed, so the writes the oracle is given miss those, and a
// view cached by the blocks they touched could be stale: such a case's
// views are decoded afresh.
func (w *worker) noteCase(c Case) {
	w.untracedWrites = len(c.Before.Rules) > 0
	if decodeHook != nil {
		w.caseLine = c.String()
	}
}
