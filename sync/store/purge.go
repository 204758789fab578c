// Interrupted rounds: reporting them and purging what they wrote.

package store

import (
	"fmt"
	"slices"

	"github.com/cmcsync/cmcsync/hal"
)

// Interrupted describes a round that began (its intent is durable) but did
// not commit.
type Interrupted struct {
	Generation uint64
	IntentSeq  uint64
	Config     Config        // the configuration the round ran with
	Blocks     []uint32      // data blocks the round may have touched
	Entries    []IntentEntry // the chunks it was writing
	Complete   bool          // all its intent records are durable
	Purged     bool
}

func (in *intent) interrupted(purged bool) *Interrupted {
	return &Interrupted{Generation: in.generation, IntentSeq: in.seq, Config: in.config.clone(), Blocks: in.blocks(),
		Entries: slices.Clone(in.entries), Complete: in.partsSeen == in.parts, Purged: purged}
}

// Interrupted returns the interrupted round awaiting purge, or nil.
func (s *Store) Interrupted() *Interrupted {
	if s.pending == nil {
		return nil
	}
	return s.pending.interrupted(false)
}

// LastPurged returns the last round purged since Open (or found purged in
// the journal), or nil.
func (s *Store) LastPurged() *Interrupted {
	if s.purged == nil {
		return nil
	}
	return s.purged.interrupted(true)
}

// PurgeResult says what a purge did.
type PurgeResult struct {
	Generation uint64
	Blocks     []uint32
	Erased     int // blocks erased (all of them, unless retired)
}

// Purge deletes what the interrupted round wrote (and drops a staged
// configuration: reinit returns to the committed one): every data block its
// intent names is erased and read back to confirm it is erased
// (ErrPurgeFailed otherwise). Only then is
// the purged mark appended. Blocks of the committed generation are never
// touched. Without an interrupted round it does nothing.
func (s *Store) Purge() (PurgeResult, error) {
	in := s.pending
	if in == nil {
		return PurgeResult{}, nil
	}
	if s.opts.ReadOnly {
		return PurgeResult{}, ErrReadOnly
	}
	res := PurgeResult{Generation: in.generation, Blocks: in.blocks()}
	if !s.opts.SkipPurgeErase {
		bufs := &blockBufs{blockSize: s.eraseSize}
		defer bufs.release()
		buf := bufs.get()
		for _, b := range res.Blocks {
			if s.live.has(b) {
				// Only a damaged intent names a committed block: never
				// erase committed data.
				s.find(RecordRejected, s.area, s.areaOff(s.area), in.seq, "interrupted round %d names block %d of the committed generation; not purged", in.generation, b)
				continue
			}
			if err := s.eraseVerified(b, buf, &res); err != nil {
				return res, err
			}
			if err := s.purgeReadAgain(b, buf); err != nil {
				return res, err
			}
		}
	}
	var e enc
	e.u64(in.generation)
	e.u64(in.seq)
	s.round = nil
	s.pending = nil
	staged := s.staged
	s.staged = nil // reinit: back to the committed configuration
	var err error
	if s.nextSeq > in.seq && s.fits([]int64{recordSize(len(e.buf), s.slotSize)}) {
		err = s.writeRecords([][]byte{encodeRecord(kindPurged, s.nextSeq, e.buf, s.slotSize)})
	} else {
		// A checkpoint of the committed state in the other area supersedes
		// the intent and the mark (which could not refer to it there). So
		// too when the intent's head never read back as written (Begin's
		// first program failed): a reader may find it or not, and the mark
		// would take its sequence number; a mark without its intent is
		// damage to a reader, which ignores the records after it.
		err = s.compact()
	}
	if err != nil {
		s.pending, s.staged = in, staged
		return res, fmt.Errorf("write purged mark: %w", err)
	}
	s.purged = in
	return res, nil
}

// eraseVerified erases data block b and reads it back to confirm it is
// erased, within three tries (an erase that fails with a media error or
// no response is tried again too; a worn-out or bad block is retired at
// once, and any other failure fails the purge). It always erases first: a
// block left by a torn erase or program may read as erased once and not
// the next time (weakly programmed cells), so a read alone proves nothing.
// A read-back that fails with a media error or no response says nothing
// about the block: the next try reads it again without erasing it again
// (an erase costs wear; a read does not), and only a block that reads
// back unerased is erased again.
func (s *Store) eraseVerified(b uint32, buf []byte, res *PurgeResult) error {
	off := s.dataOff(b)
	erase, erased := true, false
	for try := 0; ; try++ {
		last := try == 2
		if erase {
			if err := s.flash.Erase(off, s.eraseSize); err != nil {
				if !last && transientErr(err) {
					continue // a failed erase is tried again, as one that reads back unerased is
				}
				if s.retire(b, err) {
					return nil // unreachable and never used again
				}
				return fmt.Errorf("purge: erase block %d: %w", b, err)
			}
			if !erased {
				erased = true
				res.Erased++
			}
		}
		if _, err := s.flash.ReadAt(buf, off); err != nil {
			if !last && transientErr(err) {
				erase = false // read it again: the erase may well have done its work
				continue
			}
			return fmt.Errorf("purge: verify block %d: %w", b, err)
		}
		if hal.IsErased(buf) {
			s.erased.add(b)
			s.unread.remove(b)
			return nil
		}
		if last {
			return fmt.Errorf("%w: block %d at %#x", ErrPurgeFailed, b, off)
		}
		erase = true
	}
}
