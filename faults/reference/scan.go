package reference

// areaScan is one journal area read as docs/FORMAT.md, 4.6 step 3 says:
// the chain of valid records with consecutive sequence numbers from the
// area's first record, and how it ended.
type areaScan struct {
	frames []located
	// copies are the valid records at a block's start that the chain
	// skipped as copies of records it took (records written again after
	// their read-back failed).
	copies   []located
	findings findingList
	torn     bool
}

// located is a valid record and where it lies.
type located struct {
	frame
	off  int64 // chip offset
	size int64 // bytes on flash, padded to the slot
}

// scanner walks one area's bytes.
type scanner struct {
	area       []byte // the area's K erase blocks
	areaOff    int64  // chip offset of the area
	index      int    // 0 or 1
	erase      int    // E
	slot       int
	res        areaScan
	expected   uint64 // the sequence number the next record must carry
	started    bool   // a first record was taken
	blockCount int
}

func (s *scanner) block(i int) []byte { return s.area[i*s.erase : (i+1)*s.erase] }

func (s *scanner) chip(blk, pos int) int64 { return s.areaOff + int64(blk*s.erase+pos) }

// scanArea reads the journal of one area. Within an erase block records
// follow each other from offset 0 at slot boundaries. When the chain meets
// an erased slot, an invalid record or the end of the block, the journal
// continues at the next block if that block's first record is valid and
// carries the expected sequence number, or after the copies at its start
// of records the chain took (records written again after their read-back
// failed, whose first copy read valid: 4.6 step 3); anything else there
// ends it.
//
// Damage (the state is the one before it, and the scan stops): a valid
// record with another sequence number than expected, a valid record after
// an invalid record or erased slot in the same block, and — after the end
// — any valid record later in the area whose sequence number is at least
// the expected one (stale records of older epochs have lower ones, so such
// a record means records were lost). An invalid record at the very end is a
// torn write: ignored, and reported as a TornTail finding.
func scanArea(area []byte, areaOff int64, index, erase, slot int) areaScan {
	s := &scanner{area: area, areaOff: areaOff, index: index, erase: erase, slot: slot, blockCount: len(area) / erase}
	from := 0 // where block blk's chain starts: after the copies at its start
	for blk := 0; blk < s.blockCount; blk++ {
		endPos, endState, endWhy, ok := s.chain(blk, from)
		from = 0
		if !ok {
			return s.res
		}
		if endPos >= 0 && s.damagedAfter(blk, endPos, endState) {
			return s.res
		}
		if blk+1 == s.blockCount {
			s.tornTail(blk, endPos, endState, endWhy)
			return s.res
		}
		st, fr, why := parseSlot(s.block(blk+1), 0)
		if st == slotValid && s.started && fr.seq == s.expected {
			if endState == slotInvalid {
				s.res.findings.add(TornSkipped, s.index, s.chip(blk, endPos), s.expected,
					"invalid record (%s) ends the block; the journal continues at the next block", endWhy)
			}
			continue
		}
		if st == slotValid && s.started && fr.seq < s.expected && s.isCopy(fr) {
			// Records written again after their read-back failed: the
			// copy left behind read valid and the chain took it; the
			// copies at this block's start are skipped.
			if endState == slotInvalid {
				s.res.findings.add(TornSkipped, s.index, s.chip(blk, endPos), s.expected,
					"invalid record (%s) ends the block; the journal continues at the next block, after copies of records it holds", endWhy)
			}
			from = s.skipCopies(blk + 1)
			continue
		}
		if st == slotValid && s.started && fr.seq > s.expected {
			s.res.findings.add(SequenceGap, s.index, s.chip(blk+1, 0), fr.seq,
				"the next block starts with a %s record of seq %d, expected %d", fr.kind, fr.seq, s.expected)
			return s.res
		}
		switch {
		case s.lostAfter(blk + 1):
		case endState == slotInvalid:
			s.tornTail(blk, endPos, endState, endWhy)
		case st == slotInvalid:
			s.tornTail(blk+1, 0, st, why)
		}
		return s.res
	}
	return s.res
}

// isCopy reports whether fr is a copy of a record the chain took (4.6
// step 3): the same sequence number, kind and body, so the same bytes.
func (s *scanner) isCopy(fr frame) bool {
	for _, f := range s.res.frames {
		if f.seq == fr.seq {
			return f.kind == fr.kind && f.reserved == fr.reserved && f.length == fr.length && string(f.body) == string(fr.body)
		}
	}
	return false
}

// skipCopies returns the offset in block blk after the valid records at
// its start that are copies of records the chain took, with consecutive
// numbers below the expected one (the records a writer wrote again).
func (s *scanner) skipCopies(blk int) int {
	b := s.block(blk)
	pos := 0
	var next uint64
	for pos+headerSize <= s.erase {
		st, fr, _ := parseSlot(b, pos)
		if st != slotValid || fr.seq >= s.expected || (pos > 0 && fr.seq != next) || !s.isCopy(fr) {
			break
		}
		next = fr.seq + 1
		size := roundUp(fr.length, s.slot)
		s.res.copies = append(s.res.copies, located{frame: fr, off: s.chip(blk, pos), size: int64(size)})
		pos += size
	}
	return pos
}

// chain takes the valid records of block blk from offset from (0, or
// after the copies at the block's start). It returns where the chain
// stopped (-1 at the end of the block) and what is there, or ok false if
// it met a record out of sequence (damage, recorded).
func (s *scanner) chain(blk, from int) (endPos int, endState slotState, endWhy string, ok bool) {
	b := s.block(blk)
	for pos := from; pos+headerSize <= s.erase; {
		st, fr, why := parseSlot(b, pos)
		if st != slotValid {
			return pos, st, why, true
		}
		if s.started && fr.seq != s.expected {
			kind, rel := SequenceGap, "higher"
			if fr.seq < s.expected {
				kind, rel = SequenceBackwards, "lower"
			}
			s.res.findings.add(kind, s.index, s.chip(blk, pos), fr.seq,
				"%s record carries seq %d, %s than the expected %d", fr.kind, fr.seq, rel, s.expected)
			return 0, 0, "", false
		}
		s.started, s.expected = true, fr.seq+1
		size := roundUp(fr.length, s.slot)
		s.res.frames = append(s.res.frames, located{frame: fr, off: s.chip(blk, pos), size: int64(size)})
		pos += size
	}
	return -1, 0, "", true
}

// damagedAfter reports (and records) a valid record at a slot after the
// one where block blk's chain stopped: records follow each other from
// offset 0, so it can only be there if the records between were damaged.
func (s *scanner) damagedAfter(blk, endPos int, endState slotState) bool {
	b := s.block(blk)
	for pos := endPos + s.slot; pos+headerSize <= s.erase; pos += s.slot {
		st, fr, _ := parseSlot(b, pos)
		if st != slotValid {
			continue
		}
		what := "an invalid record"
		if endState == slotErased {
			what = "an erased slot"
		}
		s.res.findings.add(RecordDamaged, s.index, s.chip(blk, endPos), s.expected,
			"%s where seq %d was expected, followed by a valid %s record of seq %d at %#x in the same block",
			what, s.expected, fr.kind, fr.seq, s.chip(blk, pos))
		return true
	}
	return false
}

// lostAfter looks at every slot of blocks from..K-1 for a valid record
// with a sequence number at least the expected one, and reports whether
// it found (and recorded) one. The invalid record that ended the journal,
// if any, is then damage, not a torn tail.
func (s *scanner) lostAfter(from int) bool {
	if !s.started {
		return false
	}
	for blk := from; blk < s.blockCount; blk++ {
		b := s.block(blk)
		for pos := 0; pos+headerSize <= s.erase; pos += s.slot {
			st, fr, _ := parseSlot(b, pos)
			if st == slotValid && fr.seq >= s.expected {
				s.res.findings.add(RecordsLost, s.index, s.chip(blk, pos), fr.seq,
					"a valid %s record of seq %d lies after the end of the journal (expected seq %d next): records were lost, or stale records of this epoch lie where the journal may run into them",
					fr.kind, fr.seq, s.expected)
				return true
			}
		}
	}
	return false
}

func (s *scanner) tornTail(blk, pos int, st slotState, why string) {
	if st != slotInvalid {
		return
	}
	s.res.torn = true
	s.res.findings.add(TornTail, s.index, s.chip(blk, pos), s.expected, "the journal ends with an invalid record (%s), ignored", why)
}
