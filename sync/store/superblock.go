// The superblock: the store's layout, its two copies, read and repaired at
// Open (docs/FORMAT.md, Superblock).

package store

import (
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/hal"
)

// FormatVersion is the on-flash format version this package writes and reads.
const FormatVersion = 1

// Superblock describes a store's layout. Two identical copies live at the
// start of store blocks 0 and 1; it is written by Format only.
type Superblock struct {
	Version   uint32
	ChipID    uint8  // 0 or 1: which chip of the pair this store is on
	Kind      uint8  // hal.Kind of the device at format time
	PairID    uint64 // the same on both chips of a pair
	StoreSize int64
	EraseSize int64 // also the chunk size
	SlotSize  int64 // journal records start at multiples of it
	// JournalBlocks is the size of each of the two journal areas, in erase
	// blocks; they start at store blocks Journal[0] and Journal[1].
	JournalBlocks uint32
	Journal       [2]uint32
	// DataFirst and DataBlocks place the data area (in store blocks).
	DataFirst  uint32
	DataBlocks uint32
	MaxChunks  uint32 // chunks the journal was sized for
	Formatted  time.Time
}

func (s *Superblock) encode() []byte {
	var e enc
	e.u32(s.Version)
	e.u8(s.ChipID)
	e.u8(s.Kind)
	e.u16(0)
	e.u64(s.PairID)
	e.i64(s.StoreSize)
	e.u32(uint32(s.EraseSize))
	e.u32(uint32(s.SlotSize))
	e.u32(s.JournalBlocks)
	e.u32(s.Journal[0])
	e.u32(s.Journal[1])
	e.u32(s.DataFirst)
	e.u32(s.DataBlocks)
	e.u32(s.MaxChunks)
	e.time(s.Formatted)
	return e.buf
}

func decodeSuperblock(b []byte) (Superblock, error) {
	d := dec{buf: b}
	var s Superblock
	s.Version = d.u32()
	s.ChipID = d.u8()
	s.Kind = d.u8()
	d.u16()
	s.PairID = d.u64()
	s.StoreSize = d.i64()
	s.EraseSize = int64(d.u32())
	s.SlotSize = int64(d.u32())
	s.JournalBlocks = d.u32()
	s.Journal[0] = d.u32()
	s.Journal[1] = d.u32()
	s.DataFirst = d.u32()
	s.DataBlocks = d.u32()
	s.MaxChunks = d.u32()
	s.Formatted = d.time()
	if d.bad {
		return s, fmt.Errorf("%w: superblock body too short", ErrCorrupt)
	}
	return s, s.check()
}

// check validates the superblock's own consistency.
func (s *Superblock) check() error {
	pow2 := func(v int64) bool { return v > 0 && v&(v-1) == 0 }
	switch {
	case s.Version != FormatVersion:
		return fmt.Errorf("%w: superblock version %d (this build reads %d)", ErrCorrupt, s.Version, FormatVersion)
	case s.ChipID > 1:
		return fmt.Errorf("%w: superblock chip id %d", ErrCorrupt, s.ChipID)
	case !pow2(s.EraseSize) || s.EraseSize < minEraseSize || s.EraseSize > 1<<24:
		return fmt.Errorf("%w: superblock erase size %d", ErrCorrupt, s.EraseSize)
	case !pow2(s.SlotSize) || s.SlotSize > s.EraseSize:
		return fmt.Errorf("%w: superblock slot size %d", ErrCorrupt, s.SlotSize)
	case s.StoreSize <= 0 || s.StoreSize%s.EraseSize != 0:
		return fmt.Errorf("%w: superblock store size %d", ErrCorrupt, s.StoreSize)
	}
	blocks := s.StoreSize / s.EraseSize
	k := int64(s.JournalBlocks)
	switch {
	case k < 4 || int64(s.Journal[0]) != 2 || int64(s.Journal[1]) != 2+k:
		return fmt.Errorf("%w: superblock journal layout %d+%d,%d", ErrCorrupt, s.Journal[0], k, s.Journal[1])
	case int64(s.DataFirst) != 2+2*k || int64(s.DataFirst)+int64(s.DataBlocks) != blocks || s.DataBlocks == 0:
		return fmt.Errorf("%w: superblock data area %d+%d in %d blocks", ErrCorrupt, s.DataFirst, s.DataBlocks, blocks)
	}
	return nil
}

// slotSize returns the record slot for g: the program page, or the write
// size on NAND if larger.
func slotSize(g hal.Geometry) int64 { return max(g.PageSize, g.WriteSize, 1) }

func (s *Store) readSuperblocks() error {
	g := s.flash.Geometry()
	slot := slotSize(g)
	buf := make([]byte, max(slot, 256))
	var good []Superblock
	for i := int64(0); i < 2; i++ {
		if (i+1)*s.eraseSize > s.size {
			break
		}
		if _, err := s.flash.ReadAt(buf, s.offset+i*s.eraseSize); err != nil {
			return fmt.Errorf("read superblock %d: %w", i, err)
		}
		r, st := parseRecord(buf, slot, s.opts.TrustRecords)
		if st != parseOK || r.kind != kindSuperblock {
			if st != parseErased {
				s.damage = append(s.damage, fmt.Sprintf("superblock copy %d at %#x is damaged", i, s.offset+i*s.eraseSize))
			}
			s.superblockBad[i] = true
			continue
		}
		sb, err := decodeSuperblock(r.body)
		if err != nil {
			s.damage = append(s.damage, fmt.Sprintf("superblock copy %d: %v", i, err))
			s.superblockBad[i] = true
			continue
		}
		good = append(good, sb)
	}
	if len(good) == 0 {
		return fmt.Errorf("%w: no valid superblock at %#x on %s (run format)", ErrNotFormatted, s.offset, g.Name)
	}
	if len(good) == 2 && good[0] != good[1] {
		s.damage = append(s.damage, "superblock copies differ; using copy 0")
	}
	s.layout = good[0]
	if s.layout.EraseSize != g.EraseSize || s.layout.StoreSize != s.size || s.layout.SlotSize != slot {
		return fmt.Errorf("%w: superblock describes a %s store with %s erase blocks, the range is %s of %s blocks (wrong layout?)",
			ErrCorrupt, hal.FormatSize(s.layout.StoreSize), hal.FormatSize(s.layout.EraseSize), hal.FormatSize(s.size), hal.FormatSize(g.EraseSize))
	}
	s.slotSize = slot
	return nil
}

// repairSuperblock rewrites a damaged superblock copy from the good one
// (the good copy stays valid throughout, so this is power-safe).
func (s *Store) repairSuperblock() error {
	if s.superblockBad[0] == s.superblockBad[1] {
		return nil
	}
	for i := int64(0); i < 2; i++ {
		if !s.superblockBad[i] {
			continue
		}
		at := s.offset + i*s.eraseSize
		if err := s.flash.Erase(at, s.eraseSize); err != nil {
			return fmt.Errorf("repair superblock copy %d: %w", i, err)
		}
		if _, err := s.flash.WriteAt(encodeRecord(kindSuperblock, 0, s.layout.encode(), s.slotSize), at); err != nil {
			return fmt.Errorf("repair superblock copy %d: %w", i, err)
		}
		s.superblockBad[i] = false
	}
	return nil
}
