// Reading records off the journal: choosing the area with the newest
// complete checkpoint and scanning its blocks (docs/FORMAT.md, Journal:
// reading).

package store

import (
	"fmt"
	"slices"

	"github.com/cmcsync/cmcsync/hal"
)

// areaScan is what scanning one journal area found.
type areaScan struct {
	records    []record
	tailBlock  int64 // where the next record goes
	tailOffset int64
	damaged    []string
	dirty      bool // damage: compact before appending
	torn       bool // the journal ends with a torn (invalid) write
	// tailReady: the tail block reads erased from the tail offset on.
	tailReady bool
}

// scanArea reads area a from its first block: records in sequence-number
// order, following the writer's rule that a record which does not fit (or
// follows a torn write) starts at the next block. It reads only the blocks
// in use and the one after them.
func (s *Store) scanArea(a int, bufs *blockBufs) (*areaScan, error) {
	k := int64(s.layout.JournalBlocks)
	base := s.areaOff(a)
	res := &areaScan{records: getRecords()}
	buf := bufs.get()
	next := bufs.get()
	if _, err := s.flash.ReadAt(buf, base); err != nil {
		return nil, fmt.Errorf("read journal area %d: %w", a, err)
	}
	var expect uint64
	started := false
	bi := int64(0)
	so := int64(0)
	// carried: buf's first record, parsed (and its CRCs checked) when buf
	// was the next block.
	var carried record
	hasCarried := false
	for {
		for so < s.eraseSize {
			var r record
			st := parseOK
			if hasCarried {
				r, hasCarried = carried, false
			} else {
				r, st = parseRecord(buf[so:], s.slotSize, s.opts.TrustRecords)
			}
			if st != parseOK || (started && r.seq != expect) {
				break
			}
			r.off = base + bi*s.eraseSize + so
			res.records = append(res.records, r)
			expect = r.seq + 1
			started = true
			so += r.size
		}
		if !started {
			return res, nil
		}
		clean := so >= s.eraseSize || hal.IsErased(buf[so:])
		if !clean {
			// Torn tail or damage: damage if a later valid record follows.
			for p := so + s.slotSize; p < s.eraseSize; p += s.slotSize {
				if r, st := parseRecord(buf[p:], s.slotSize, s.opts.TrustRecords); st == parseOK && r.seq >= expect {
					res.damaged = append(res.damaged, fmt.Sprintf("journal record %d at %#x is damaged; later records ignored", expect, base+bi*s.eraseSize+so))
					break
				}
			}
		}
		// The journal continues at the next block only if its first record
		// is the expected one. Anything else there — erased, stale records
		// of an older epoch (lower sequence numbers), a torn write — ends
		// the journal: the writer erases a block before it enters it.
		nb := bi + 1
		found, nextErased := false, false
		if nb < k {
			if _, err := s.flash.ReadAt(next, base+nb*s.eraseSize); err != nil {
				return nil, fmt.Errorf("read journal area %d: %w", a, err)
			}
			r, st := parseRecord(next, s.slotSize, s.opts.TrustRecords)
			switch {
			case st == parseOK && r.seq == expect:
				found = true
				carried, hasCarried = r, true
			case st == parseOK && r.seq > expect:
				res.damaged = append(res.damaged, fmt.Sprintf("journal records %d..%d missing before %#x; later records ignored", expect, r.seq-1, base+nb*s.eraseSize))
			case st == parseErased && hal.IsErased(next):
				nextErased = true
			}
		}
		if found {
			bi = nb
			buf, next = next, bufs.get() // records keep pointing into buf
			so = 0
			continue
		}
		if clean && so < s.eraseSize {
			res.tailBlock, res.tailOffset, res.tailReady = bi, so, true
		} else {
			res.tailBlock, res.tailOffset, res.tailReady = bi+1, 0, nextErased
		}
		res.torn = !clean
		if len(res.damaged) > 0 {
			res.dirty = true
		}
		return res, nil
	}
}

// loadJournal picks the journal area with the newest complete checkpoint
// and replays it.
func (s *Store) loadJournal() error {
	type cand struct {
		a     int
		epoch uint64
	}
	var cands []cand
	// The blocks read stay in bufs while the records point into them;
	// they go back to the pool once the state is rebuilt and the kept
	// records no longer point into them.
	bufs := &blockBufs{blockSize: s.eraseSize}
	defer bufs.release()
	hdr := bufs.get()
	for a := 0; a < 2; a++ {
		if _, err := s.flash.ReadAt(hdr[:min(s.eraseSize, 1024)], s.areaOff(a)); err != nil {
			return fmt.Errorf("read journal area %d: %w", a, err)
		}
		r, st := parseRecord(hdr[:min(s.eraseSize, 1024)], s.slotSize, s.opts.TrustRecords)
		if st != parseOK || r.kind != kindCkptBegin || len(r.body) < 8 {
			// A checkpoint-begin larger than 1 KiB: read the whole block.
			if _, err := s.flash.ReadAt(hdr, s.areaOff(a)); err != nil {
				return fmt.Errorf("read journal area %d: %w", a, err)
			}
			r, st = parseRecord(hdr, s.slotSize, s.opts.TrustRecords)
			if st != parseOK || r.kind != kindCkptBegin || len(r.body) < 8 {
				continue
			}
		}
		cands = append(cands, cand{a, le.Uint64(r.body)})
	}
	if len(cands) == 2 && cands[1].epoch > cands[0].epoch {
		cands[0], cands[1] = cands[1], cands[0]
	}
	var errs []error
	for i, c := range cands {
		sc, err := s.scanArea(c.a, bufs)
		if err != nil {
			return err
		}
		if err := s.replay(sc.records, c.epoch); err != nil {
			putRecords(sc.records)
			errs = append(errs, fmt.Errorf("journal area %d (epoch %d): %w", c.a, c.epoch, err))
			continue
		}
		if i > 0 {
			s.damage = append(s.damage, fmt.Sprintf("newer journal area %d unusable (%v); using area %d", cands[0].a, errs[0], c.a))
			sc.dirty = true
		}
		s.damage = append(s.damage, sc.damaged...)
		s.area, s.epoch = c.a, c.epoch
		s.tailBlock, s.tailOffset, s.tailReady = sc.tailBlock, sc.tailOffset, sc.tailReady
		if s.tailOffset > 0 {
			// What follows the last valid record may have been touched
			// by a torn write whose weak bits read as erased: append in a
			// fresh block, erased first.
			s.tailBlock, s.tailOffset = s.tailBlock+1, 0
		}
		s.tailReady = false
		s.recordCount = len(sc.records)
		s.torn = sc.torn
		s.mustCompact = sc.dirty || s.tailBlock >= int64(s.layout.JournalBlocks)
		if n := len(sc.records); n > 0 {
			s.lastRecord = sc.records[n-1]
			s.lastRecord.body = slices.Clone(s.lastRecord.body)
			s.nextSeq = s.lastRecord.seq + 1
		}
		// The log keeps where each record is, not its body (the bodies
		// point into bufs).
		for i := range sc.records {
			sc.records[i].body = nil
		}
		s.log = sc.records
		return nil
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: no usable journal area: %v", ErrCorrupt, errs)
	}
	return fmt.Errorf("%w: no journal checkpoint in either area (superblock is valid: the store was damaged or its format was interrupted)", ErrCorrupt)
}
