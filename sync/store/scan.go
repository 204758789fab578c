// Reading records off a journal area: the chain of records with
// consecutive sequence numbers from its checkpoint-begin, how it ended
// (erased, torn by power loss, or damaged), and what lies after its end
// (docs/FORMAT.md, Journal: reading).

package store

import (
	"bytes"
	"fmt"
)

// areaScan is what scanning one journal area found.
type areaScan struct {
	records []record
	// tailBlock is the block after the last one holding records: where a
	// writer that has just opened the journal appends.
	tailBlock int64
	findings  []Finding
	torn      bool   // the journal ends with a torn (invalid) write
	maxSeq    uint64 // the highest sequence number of a valid record seen
}

func (sc *areaScan) find(k FindingKind, area int, off int64, seq uint64, format string, args ...any) {
	sc.findings = append(sc.findings, Finding{Kind: k, Area: area, Off: off, Seq: seq, Detail: fmt.Sprintf(format, args...)})
}

// readArea reads journal area a whole, in one read, into a buffer of bufs.
func (s *Store) readArea(a int, bufs *blockBufs) ([]byte, error) {
	area := bufs.area(int64(s.layout.JournalBlocks) * s.eraseSize)
	if _, err := s.flash.ReadAt(area, s.areaOff(a)); err != nil {
		return nil, fmt.Errorf("read journal area %d: %w", a, err)
	}
	return area, nil
}

// scanArea reads area a and follows its chain from the first block:
// records in sequence-number order, following the writer's rule that a
// record which does not fit (or follows a torn write) starts at the next
// block, and skipping the copies a block may start with of records the
// chain took (written again after their read-back failed, the first copy
// left valid: see copiesAt). Where the chain ends it looks at the rest of the area for records
// the chain should have reached (see lostAfter). If the area's first
// record is not valid, the result holds no records. The records point into
// a buffer of bufs.
func (s *Store) scanArea(a int, bufs *blockBufs) (*areaScan, error) {
	area, err := s.readArea(a, bufs)
	if err != nil {
		return nil, err
	}
	k := int64(s.layout.JournalBlocks)
	base := s.areaOff(a)
	res := &areaScan{records: getRecords()}
	var expect uint64
	started := false
	start := int64(0) // where the chain goes on in block bi: after the copies at its start
	for bi := int64(0); ; bi++ {
		buf := area[bi*s.eraseSize : (bi+1)*s.eraseSize]
		blockOff := base + bi*s.eraseSize
		res.tailBlock = bi + 1
		so := start
		start = 0
		endSt := parseOK // what ended the chain in this block (parseOK: the block's end)
		for so+recordHeader <= s.eraseSize {
			r, st := parseRecord(buf[so:], s.slotSize, s.opts.TrustRecords)
			if st != parseOK {
				endSt = st
				break
			}
			res.maxSeq = max(res.maxSeq, r.seq)
			if started && r.seq != expect {
				rel := "higher"
				if r.seq < expect {
					rel = "lower"
				}
				res.find(SequenceGap, a, blockOff+so, r.seq, "a %s record carries seq %d, %s than the expected %d; it and later records ignored", kindName(r.kind), r.seq, rel, expect)
				return res, nil
			}
			r.off = blockOff + so
			res.records = append(res.records, r)
			expect = r.seq + 1
			started = true
			so += r.size
		}
		if !started {
			res.tailBlock = 0
			return res, nil
		}
		if endSt != parseOK {
			// Records follow each other from offset 0: a valid record
			// later in the block means the ones between were damaged.
			if p, r, ok := s.validAfter(buf, so); ok {
				what := "an invalid record"
				if endSt == parseErased {
					what = "an erased slot"
				}
				res.maxSeq = max(res.maxSeq, r.seq)
				res.find(RecordDamaged, a, blockOff+so, expect, "%s where seq %d was expected, followed by a valid %s record of seq %d at %#x in the same block; later records ignored",
					what, expect, kindName(r.kind), r.seq, blockOff+p)
				return res, nil
			}
		}
		nb := bi + 1
		if nb >= k {
			res.torn = endSt == parseBad
			return res, nil
		}
		// The journal continues at the next block only if its first
		// record is the expected one.
		r, st := parseRecord(area[nb*s.eraseSize:(nb+1)*s.eraseSize], s.slotSize, s.opts.TrustRecords)
		switch {
		case st == parseOK && r.seq == expect:
			continue
		case st == parseOK && r.seq < expect && res.isCopy(r):
			// Records the writer wrote again after their read-back
			// failed: the copy left in the previous block reads valid
			// (on NAND it cannot be zeroed) and the chain took it.
			start = s.copiesAt(area[nb*s.eraseSize:(nb+1)*s.eraseSize], expect, res)
			continue
		case st == parseOK && r.seq > expect:
			res.maxSeq = max(res.maxSeq, r.seq)
			res.find(SequenceGap, a, base+nb*s.eraseSize, r.seq, "the next block starts with a %s record of seq %d, expected %d; it and later records ignored", kindName(r.kind), r.seq, expect)
			return res, nil
		}
		lost := s.lostAfter(a, area, nb, expect, res)
		// An invalid record at the end — right after the last valid one,
		// or first in the next block — with nothing valid after it is a
		// write cut by power loss.
		res.torn = !lost && (endSt == parseBad || st == parseBad)
		return res, nil
	}
}

// isCopy reports whether r is a copy of a record the chain took: the same
// sequence number, kind and body (both copies valid: the same bytes).
func (sc *areaScan) isCopy(r record) bool {
	if len(sc.records) == 0 || r.seq < sc.records[0].seq {
		return false
	}
	i := r.seq - sc.records[0].seq
	if i >= uint64(len(sc.records)) {
		return false
	}
	c := sc.records[i]
	return c.seq == r.seq && c.kind == r.kind && c.reserved == r.reserved && bytes.Equal(c.body, r.body)
}

// copiesAt returns the offset in block b (one erase block) after the
// records at its start that are copies of records of the chain, with
// consecutive sequence numbers below expect: where the chain goes on
// (docs/FORMAT.md, 4.6 step 3: records written again at the start of the
// next block after their read-back failed leave copies that may read
// valid). b starts with at least one copy.
func (s *Store) copiesAt(b []byte, expect uint64, res *areaScan) int64 {
	so := int64(0)
	var next uint64
	for so+recordHeader <= s.eraseSize {
		r, st := parseRecord(b[so:], s.slotSize, s.opts.TrustRecords)
		if st != parseOK || r.seq >= expect || (so > 0 && r.seq != next) || !res.isCopy(r) {
			break
		}
		next = r.seq + 1
		so += r.size
	}
	return so
}

// validAfter returns the first valid record at a slot after so in block
// b, and its offset.
func (s *Store) validAfter(b []byte, so int64) (int64, record, bool) {
	for p := so + s.slotSize; p+recordHeader <= s.eraseSize; p += s.slotSize {
		if le.Uint32(b[p:]) != recordMagic {
			continue
		}
		if r, st := parseRecord(b[p:], s.slotSize, s.opts.TrustRecords); st == parseOK {
			return p, r, true
		}
	}
	return 0, record{}, false
}

// lostAfter looks at every slot of area a's blocks from nb on (area holds
// the whole area) for a valid record with a sequence number at least
// expect, and reports whether it found one (recorded in res, with the
// highest such number in res.maxSeq). Such a record means records of this
// journal were lost: the writer erases a block before it enters it and
// gives each compaction's checkpoint a sequence number above every record
// of the area it writes, so stale records carry lower numbers.
func (s *Store) lostAfter(a int, area []byte, nb int64, expect uint64, res *areaScan) bool {
	base := s.areaOff(a)
	found := false
	s.eachValid(area[nb*s.eraseSize:], func(at int64, r record) {
		if r.seq < expect {
			return
		}
		if !found {
			res.find(RecordsLost, a, base+nb*s.eraseSize+at, r.seq,
				"the journal ends before the block at %#x (which does not start with the expected seq %d), yet a valid %s record of seq %d lies after it: records were lost, and the state is the one before them",
				base+nb*s.eraseSize, expect, kindName(r.kind), r.seq)
		}
		found = true
		res.maxSeq = max(res.maxSeq, r.seq)
	})
	return found
}

// eachValid calls f with every valid record at a slot of blocks (whole
// erase blocks) and its offset in blocks. Only a slot that starts with the
// record magic can hold one: the others cost one load.
func (s *Store) eachValid(blocks []byte, f func(at int64, r record)) {
	for bo := int64(0); bo+s.eraseSize <= int64(len(blocks)); bo += s.eraseSize {
		b := blocks[bo : bo+s.eraseSize]
		for p := int64(0); p+recordHeader <= s.eraseSize; p += s.slotSize {
			if le.Uint32(b[p:]) != recordMagic {
				continue
			}
			if r, st := parseRecord(b[p:], s.slotSize, s.opts.TrustRecords); st == parseOK {
				f(bo+p, r)
			}
		}
	}
}

// areaMaxSeq returns the highest sequence number of a valid record in
// journal area a (any slot of any block) and where it lies; found is false
// if the area holds no valid record.
func (s *Store) areaMaxSeq(a int) (seq uint64, off int64, found bool, err error) {
	bufs := &blockBufs{blockSize: s.eraseSize}
	defer bufs.release()
	area, err := s.readArea(a, bufs)
	if err != nil {
		return 0, 0, false, err
	}
	s.eachValid(area, func(at int64, r record) {
		if !found || r.seq > seq {
			seq, off, found = r.seq, s.areaOff(a)+at, true
		}
	})
	return seq, off, found, nil
}
