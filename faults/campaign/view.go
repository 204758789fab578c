package campaign

import (
	"hash/maphash"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/store"
)

// storeView is what the reference decoder (store.Open read-only, no
// mutant options) sees on a chip.
type storeView struct {
	generation  uint64
	state       store.State
	interrupted *store.Interrupted
	staged      *store.Config
	dataOff     int64
	dataSize    int64
	refSet      map[int64]bool
	err         error
	store       *store.Store
}

// viewKey names a decoded view: the chip and a hash of its store's
// metadata blocks that differ from the base.
type viewKey struct {
	chip         int
	metadataHash uint64
}

// view returns what the reference decoder sees on chip, cached by the
// contents of the store's metadata. writes are all the programs and
// erases since the base: blocks they did not touch hold the base contents.
func (w *worker) view(chip int, writes []faults.Op) *storeView {
	var v *storeView
	w.quiet(func() {
		key, ok := w.journalKey(chip, writes)
		if ok {
			if c, hit := w.views[key]; hit {
				v = c
				return
			}
		}
		v = w.decode(chip)
		if ok && v.err == nil {
			if len(w.views) > 512 {
				clear(w.views)
				clear(w.matchMemo)
			}
			w.views[key] = v
		}
	})
	return v
}

// decode opens chip's store with the reference decoder.
func (w *worker) decode(chip int) *storeView {
	l := w.bench.layout
	s, err := store.Open(w.chips[chip], l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	if err != nil {
		return &storeView{err: err}
	}
	v := &storeView{store: s, state: s.State(), interrupted: s.Interrupted()}
	v.generation = v.state.Generation
	if c, ok := s.Staged(); ok {
		v.staged = &c
	}
	v.dataOff, v.dataSize = s.DataRange()
	return v
}

// journalKey fingerprints the store's metadata (superblocks and journal
// areas: all store.Open reads) on chip by the contents of its blocks that
// writes touched and that differ from the base.
func (w *worker) journalKey(chip int, writes []faults.Op) (viewKey, bool) {
	lo, size := w.bench.journalOff, w.bench.journalSize
	if size == 0 {
		return viewKey{}, false
	}
	blocks := w.writtenBlocks(nil, writes, func(c int, off int64) bool { return c == chip && off >= lo && off < lo+size })
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
				v.refSet[v.store.BlockOffset(c.Block)] = true
			}
		}
	}
	return v.refSet
}
