// Choosing the journal area in charge: the newest complete checkpoint,
// what a fallback to the older area means (a compaction cut by power loss,
// or damage), and what the writer must do after damage (docs/FORMAT.md,
// Journal: reading).

package store

import (
	"errors"
	"fmt"
	"slices"
)

// areaStart is a journal area whose first record is a valid
// checkpoint-begin.
type areaStart struct {
	area       int
	epoch, seq uint64
}

// loadJournal picks the journal area in charge and replays it: the area
// whose checkpoint-begin carries the higher epoch (at equal epochs, which
// is damage, the higher sequence number), or the other one if its
// checkpoint is incomplete (a compaction cut by power loss: not damage
// unless records were lost) or inconsistent (damage).
func (s *Store) loadJournal() error {
	// The blocks read stay in bufs while the records point into them;
	// they go back to the pool once the state is rebuilt and the kept
	// records no longer point into them.
	bufs := &blockBufs{blockSize: s.eraseSize}
	defer bufs.release()
	cands, tornStarts, err := s.areaStarts(bufs.get())
	if err != nil {
		return err
	}
	var errs []error
	for i, c := range cands {
		sc, err := s.scanArea(c.area, bufs)
		if err != nil {
			return err
		}
		s.maxSeqSeen = max(s.maxSeqSeen, sc.maxSeq)
		found := len(s.findings)
		if err := s.replay(sc.records, c.epoch, c.area); err != nil {
			putRecords(sc.records)
			errs = append(errs, fmt.Errorf("journal area %d (epoch %d): %w", c.area, c.epoch, err))
			// A checkpoint that ends before its checkpoint-end is a
			// compaction cut by power loss (the older area is in
			// charge) unless the scan found damage that ended it.
			s.findings = append(s.findings, sc.findings...)
			if !errors.Is(err, errIncomplete) {
				s.find(CheckpointDamaged, c.area, s.areaOff(c.area), c.seq, "the checkpoint of epoch %d is not usable: %v", c.epoch, err)
			}
			continue
		}
		// The scan's findings come before those of the replay.
		s.findings = slices.Insert(s.findings, found, sc.findings...)
		last := sc.records[len(sc.records)-1]
		if err := s.judgeTornStarts(tornStarts, last.seq); err != nil {
			putRecords(sc.records)
			return err
		}
		s.useArea(c, sc, i > 0)
		return nil
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: no usable journal area: %w", ErrCorrupt, errors.Join(errs...))
	}
	return fmt.Errorf("%w: no journal checkpoint in either area (the superblock is valid: the store was damaged or its format was interrupted; formatting again erases it)", ErrCorrupt)
}

// areaStarts reads the first record of each journal area. It returns the
// areas that start with a valid checkpoint-begin, the one to try first
// first, and those that start with an invalid record (judged once the
// journal in charge is known). An area starting with another valid record
// is damage; an erased start is an area never used (or erased by a
// compaction cut before its first program).
func (s *Store) areaStarts(hdr []byte) (cands []areaStart, tornStarts []int, err error) {
	for a := 0; a < 2; a++ {
		head := hdr[:min(s.eraseSize, 1024)]
		if _, err := s.flash.ReadAt(head, s.areaOff(a)); err != nil {
			return nil, nil, fmt.Errorf("read journal area %d: %w", a, err)
		}
		r, st := parseRecord(head, s.slotSize, s.opts.TrustRecords)
		if st == parseBad {
			// A checkpoint-begin larger than 1 KiB: read the whole block.
			if _, err := s.flash.ReadAt(hdr, s.areaOff(a)); err != nil {
				return nil, nil, fmt.Errorf("read journal area %d: %w", a, err)
			}
			r, st = parseRecord(hdr, s.slotSize, s.opts.TrustRecords)
		}
		switch {
		case st == parseErased:
			continue
		case st == parseBad:
			tornStarts = append(tornStarts, a)
			continue
		case r.kind != kindCkptBegin:
			s.find(AreaUnknown, a, s.areaOff(a), r.seq, "the area starts with a valid %s record, not a checkpoint-begin; the area is ignored", kindName(r.kind))
			continue
		case len(r.body) < 8:
			s.find(CheckpointDamaged, a, s.areaOff(a), r.seq, "the checkpoint-begin has a %d-byte body", len(r.body))
			continue
		}
		epoch := le.Uint64(r.body)
		s.maxEpochSeen = max(s.maxEpochSeen, epoch)
		cands = append(cands, areaStart{area: a, epoch: epoch, seq: r.seq})
	}
	if len(cands) == 2 {
		if cands[0].epoch == cands[1].epoch {
			s.find(CheckpointDamaged, cands[1].area, s.areaOff(cands[1].area), cands[1].seq,
				"both journal areas carry epoch %d; the one whose checkpoint-begin has the higher sequence number is tried first", cands[0].epoch)
		}
		if cands[1].epoch > cands[0].epoch || (cands[1].epoch == cands[0].epoch && cands[1].seq > cands[0].seq) {
			cands[0], cands[1] = cands[1], cands[0]
		}
	}
	return cands, tornStarts, nil
}

// judgeTornStarts tells what an invalid first record of an area not in
// charge is. A compaction cut by power loss while it programmed its
// checkpoint-begin wrote nothing after it. If the area holds a valid
// record newer than the journal in charge (whose last record has sequence
// number last), its checkpoint-begin was damaged and the records after it
// are lost with it: the state is older than what the store had committed.
func (s *Store) judgeTornStarts(areas []int, last uint64) error {
	for _, a := range areas {
		seq, off, found, err := s.areaMaxSeq(a)
		if err != nil {
			return err
		}
		if !found || seq <= last {
			continue
		}
		s.maxSeqSeen = max(s.maxSeqSeen, seq)
		s.find(CheckpointDamaged, a, s.areaOff(a), 0,
			"the area's checkpoint-begin is invalid, yet the area holds a valid record of seq %d at %#x, newer than the journal in charge (last seq %d): the area's checkpoint was damaged, and the state is older than the store's",
			seq, off, last)
	}
	return nil
}

// useArea makes the scanned area of c the journal in charge. fellBack: the
// newer area was not usable. After damage to the journal the writer
// compacts before it appends, and forgets which data blocks are erased
// (the lost records may have used them).
func (s *Store) useArea(c areaStart, sc *areaScan, fellBack bool) {
	s.area, s.epoch = c.area, c.epoch
	// A writer that has just opened the journal appends at the start of
	// the block after the last one holding records: what follows the
	// last valid record may have been touched by a torn write whose weak
	// bits read as erased.
	s.tailBlock, s.tailOffset, s.tailReady = sc.tailBlock, 0, false
	s.recordCount = len(sc.records)
	s.torn = sc.torn
	s.mustCompact = fellBack || s.tailBlock >= int64(s.layout.JournalBlocks)
	if s.JournalDamaged() {
		s.mustCompact = true
		s.distrustErased()
		s.suspect = map[uint8]bool{}
		for _, t := range s.committed.Types {
			s.suspect[t.Type] = true
		}
	}
	n := len(sc.records)
	s.lastRecord = sc.records[n-1]
	s.lastRecord.body = slices.Clone(s.lastRecord.body)
	s.nextSeq = s.lastRecord.seq + 1
	// The log keeps where each record is, not its body (the bodies point
	// into the blocks read).
	for i := range sc.records {
		sc.records[i].body = nil
	}
	s.log = sc.records
}

// distrustErased forgets which data blocks are known to be erased: after
// damage to the journal, lost records may have programmed any of them.
// wraps is raised to at least 1 (the next checkpoint records it), so no
// block from the cursor on is taken for blank either.
func (s *Store) distrustErased() {
	clear(s.erased)
	clear(s.unread)
	clear(s.blank)
	s.wraps = max(s.wraps, 1)
}
