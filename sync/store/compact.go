// Journal compaction: a checkpoint of the committed state, encoded and
// written into the other journal area (docs/FORMAT.md, Compaction).

package store

import (
	"fmt"
)

// ckptEntrySize is the encoded size of one entry of a checkpoint-chunks
// record (docs/FORMAT.md, Record kinds).
const ckptEntrySize = 4 + 8 + DigestSize

// layoutRecords places encoded records one after the other in erase blocks
// of e bytes, never across a block (a record that does not fit starts the
// next block; the rest of the block stays 0xFF). It returns the image and
// the block and offset just after the last record.
func layoutRecords(recs [][]byte, e int64) (img []byte, block, off int64) {
	for _, r := range recs {
		if off+int64(len(r)) > e {
			for int64(len(img)) < (block+1)*e {
				img = append(img, 0xFF)
			}
			block++
			off = 0
		}
		img = append(img, r...)
		off += int64(len(r))
	}
	return img, block, off
}

// checkpointRecords encodes a checkpoint of st (and the staged config, the
// allocation cursor) as records with sequence numbers from seq on.
func checkpointRecords(sb *Superblock, epoch, seq uint64, st *State, staged *Config, cursor, wraps uint32) [][]byte {
	e := sb.EraseSize
	perRec := int((e - recordOverhead - 16) / ckptEntrySize)
	var chunkRecs [][]byte
	for ti := range st.Types {
		t := &st.Types[ti]
		for first := 0; first < len(t.Chunks); first += perRec {
			n := min(perRec, len(t.Chunks)-first)
			var b enc
			b.u64(epoch)
			b.u8(t.Type)
			b.u32(uint32(first))
			b.u16(uint16(n))
			for _, c := range t.Chunks[first : first+n] {
				b.u32(c.Block)
				b.u64(c.Check)
				b.raw(c.Digest[:])
			}
			chunkRecs = append(chunkRecs, b.buf)
		}
	}
	// Format version 3: the chunks' deltas, after every chunk record
	// (none in a store without deltas).
	nChunkRecs := len(chunkRecs)
	chunkRecs = append(chunkRecs, checkpointDeltaBodies(e, epoch, st)...)
	var h enc
	h.u64(epoch)
	h.stateHead(st)
	if staged != nil {
		h.u8(1)
		h.config(*staged)
	} else {
		h.u8(0)
	}
	h.u32(cursor)
	h.u32(wraps)
	h.u8(uint8(len(st.Types)))
	for ti := range st.Types {
		h.typeMeta(&st.Types[ti], len(st.Types[ti].Chunks))
	}
	h.u32(uint32(len(chunkRecs)))
	recs := [][]byte{encodeRecord(kindCkptBegin, seq, h.buf, sb.SlotSize)}
	seq++
	for i, b := range chunkRecs {
		kind := kindCkptChunks
		if i >= nChunkRecs {
			kind = kindCkptDeltas
		}
		recs = append(recs, encodeRecord(kind, seq, b, sb.SlotSize))
		seq++
	}
	var end enc
	end.u64(epoch)
	end.u32(uint32(len(chunkRecs)))
	recs = append(recs, encodeRecord(kindCkptEnd, seq, end.buf, sb.SlotSize))
	return recs
}

// checkpointImage is checkpointRecords laid out in erase blocks.
func checkpointImage(sb *Superblock, epoch, seq uint64, st *State, staged *Config, cursor, wraps uint32) []byte {
	img, _, _ := layoutRecords(checkpointRecords(sb, epoch, seq, st, staged, cursor, wraps), sb.EraseSize)
	return img
}

// compact writes a checkpoint of the committed state into the other
// journal area (after erasing it) and switches to it. A power loss before
// the checkpoint's end record leaves the current area in charge.
//
// The checkpoint's epoch is above both areas' and its sequence numbers are
// above every record of the other area (read first: the stale records a
// reader may meet after the journal's end there must carry lower numbers,
// else it takes them for lost records) and every record Open saw (the
// records lost to damage included). An older store is upgraded first.
func (s *Store) compact() error {
	if s.opts.ReadOnly {
		return ErrReadOnly
	}
	if err := s.upgrade(); err != nil {
		return err
	}
	other := 1 - s.area
	epoch := max(s.epoch, s.maxEpochSeen) + 1
	seq := max(s.nextSeq, s.maxSeqSeen+1)
	top, _, found, err := s.areaMaxSeq(other)
	if err != nil {
		return fmt.Errorf("compact journal: %w", err)
	}
	if found {
		seq = max(seq, top+1)
	}
	recs := checkpointRecords(&s.layout, epoch, seq, &s.committed, s.staged, s.cursor, s.wraps)
	img, blk, off := layoutRecords(recs, s.eraseSize)
	base := s.areaOff(other)
	// Erase only the blocks the checkpoint needs; later blocks are erased
	// one by one as the journal enters them.
	// Each block is read back twice (a weakly programmed checkpoint would
	// read right once); if one does not, the checkpoint is erased and
	// written again (nothing of it is in charge before its end record
	// reads back). The blocks after the one that did not read back were
	// erased, read back erased and not programmed since: they are not
	// erased again (an erase costs wear).
	erase := blk + 1
	for try := 0; ; try++ {
		stable, dirty, err := s.writeCheckpoint(base, erase, img)
		erase = dirty
		if err != nil {
			return fmt.Errorf("compact journal: %w", err)
		}
		if stable {
			break
		}
		if try == maxReprograms {
			return fmt.Errorf("compact journal: %w: the checkpoint at %#x does not read back as written after %d programs", ErrVerify, base, try+1)
		}
	}
	last := recs[len(recs)-1]
	s.lastRecord = record{kind: last[4], seq: le.Uint64(last[12:]), body: last[recordHeader : len(last)-4], size: int64(len(last)), off: base + blk*s.eraseSize + off - int64(len(last))}
	s.area, s.epoch, s.maxEpochSeen = other, epoch, epoch
	s.nextSeq = seq + uint64(len(recs))
	s.tailBlock, s.tailOffset, s.tailReady = blk, off, true
	s.windowEnd = 0
	s.mustCompact = false
	return nil
}

// Compact forces a journal compaction (normally automatic when an area
// fills). It fails while a round is pending.
func (s *Store) Compact() error {
	if s.pending != nil || s.round != nil {
		return ErrPending
	}
	return s.compact()
}

// writeCheckpoint erases the first erase blocks at base (the blocks of
// the checkpoint after them must read erased), programs the checkpoint
// image img there and reports whether every block of it reads back as
// written, twice. dirty is how many blocks from base it may have left
// unerased: up to the last block it programmed.
func (s *Store) writeCheckpoint(base, erase int64, img []byte) (stable bool, dirty int64, err error) {
	if erase > 0 {
		if err := s.eraseChecked(base, erase*s.eraseSize); err != nil {
			return false, erase, err
		}
	}
	var buf []byte
	for i := int64(0); i*s.eraseSize < int64(len(img)); i++ {
		b := trimFF(img[i*s.eraseSize:min((i+1)*s.eraseSize, int64(len(img)))], s.slotSize)
		if len(b) == 0 {
			continue
		}
		at := base + i*s.eraseSize
		if i > 0 {
			if err := s.between(); err != nil {
				return false, dirty, err
			}
		}
		dirty = i + 1
		if _, err := s.flash.WriteAt(b, at); err != nil {
			return false, dirty, err
		}
		if buf == nil {
			buf = make([]byte, s.eraseSize)
		}
		if ok, err := s.readsStable(b, at, buf); err != nil || !ok {
			return false, dirty, err
		}
	}
	return true, dirty, nil
}
