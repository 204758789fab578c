// The superblock: the store's layout, its two copies, read and repaired at
// Open (docs/FORMAT.md, Superblock).

package store

import (
	"errors"
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/hal"
)

// FormatVersion is the on-flash format version this package writes. It
// reads stores of versions minFormatVersion to FormatVersion: version 2
// added record kinds (format-intent, config-commit) to version 1, version
// 3 the deltas (checkpoint-deltas, intent-deltas, delta blocks), version
// 4 chains of up to 32 delta records per chunk (8 in version 3), version
// 5 compact delta records and the intent-deltas-5 records that name them
// (beside the older framing and kind, which a version 5 store keeps), and
// none changed an encoding, so an older store is read as it is and
// upgraded (its superblocks rewritten) before the first record of a newer
// version goes in (docs/FORMAT.md, Format versions).
const FormatVersion = 5

// minFormatVersion is the oldest format version this package reads.
const minFormatVersion = 1

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
	if r := d.u16(); r != 0 {
		d.fail("reserved bytes 6..7 are %#x, want 0", r)
	}
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
	if err := d.end(); err != nil {
		return s, fmt.Errorf("%w: superblock: %v", ErrCorrupt, err)
	}
	return s, s.check()
}

// check validates the superblock's own consistency.
func (s *Superblock) check() error {
	pow2 := func(v int64) bool { return v > 0 && v&(v-1) == 0 }
	switch {
	case s.Version < minFormatVersion || s.Version > FormatVersion:
		return fmt.Errorf("%w: the store is format version %d, this cmcsync reads versions %d to %d (a newer cmcsync wrote it: run that one, or format the store again, which erases it)",
			ErrVersion, s.Version, minFormatVersion, FormatVersion)
	case s.ChipID > 1:
		return fmt.Errorf("%w: superblock chip id %d", ErrCorrupt, s.ChipID)
	case s.Kind != uint8(hal.NOR) && s.Kind != uint8(hal.NAND):
		return fmt.Errorf("%w: superblock flash kind %d", ErrCorrupt, s.Kind)
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

// superblockCopy is what one superblock copy's slot holds.
type superblockCopy struct {
	sb     Superblock
	good   bool  // a valid superblock of a version this package reads
	intent bool  // a valid format-intent record (sb is its body)
	erased bool  // the slot is erased
	err    error // why it is not good (nil if erased)
}

// readSuperblockCopy reads the superblock slot of store block i.
func readSuperblockCopy(f hal.Flash, off int64, slot int64, trust bool) (superblockCopy, error) {
	buf := make([]byte, max(slot, 256))
	if _, err := f.ReadAt(buf, off); err != nil {
		return superblockCopy{}, err
	}
	r, st := parseRecord(buf, slot, trust)
	var c superblockCopy
	switch {
	case st == parseErased:
		c.erased = true
		return c, nil
	case st != parseOK:
		c.err = fmt.Errorf("%w: not a valid record", ErrCorrupt)
		return c, nil
	case r.reserved || r.seq != 0 || (r.kind != kindSuperblock && r.kind != kindFormatIntent):
		c.err = fmt.Errorf("%w: a %s record of seq %d", ErrCorrupt, kindName(r.kind), r.seq)
		return c, nil
	}
	c.sb, c.err = decodeSuperblock(r.body)
	c.intent = c.err == nil && r.kind == kindFormatIntent
	c.good = c.err == nil && r.kind == kindSuperblock
	return c, nil
}

func (s *Store) readSuperblocks() error {
	g := s.flash.Geometry()
	slot := slotSize(g)
	var copies [2]superblockCopy
	for i := int64(0); i < 2 && (i+1)*s.eraseSize <= s.size; i++ {
		c, err := readSuperblockCopy(s.flash, s.offset+i*s.eraseSize, slot, s.opts.TrustRecords)
		if err != nil {
			return fmt.Errorf("read superblock %d: %w", i, err)
		}
		copies[i] = c
	}
	c0, c1 := &copies[0], &copies[1]
	switch {
	case !c0.good && !c1.good:
		for _, c := range copies {
			if errors.Is(c.err, ErrVersion) {
				return c.err
			}
		}
		if c0.intent {
			return fmt.Errorf("%w: %w: a format of this store (chip %d of pair %#x) was cut by power loss before its end (format again: it finishes the format, erasing the range)",
				ErrNotFormatted, ErrFormatInterrupted, c0.sb.ChipID, c0.sb.PairID)
		}
		if c0.erased && c1.erased {
			return fmt.Errorf("%w: no superblock at %#x on %s: both copies are erased (a blank range, never formatted: a replaced chip? `cmcsync reseed` formats the store of the standby chip only and syncs it from the active one; `cmcsync serve --format` formats BOTH chips and ERASES both stores)", ErrNotFormatted, s.offset, g.Name)
		}
		// Something was written there: a damaged store, or another
		// program's data. Either way formatting would erase what the
		// blocks after the superblocks hold, so the hint says so.
		why := func(c superblockCopy) string {
			switch {
			case c.erased:
				return "erased"
			case c.err == nil:
				// Not read: the range ends before this copy's block.
				return "not in the range"
			}
			return c.err.Error()
		}
		return fmt.Errorf("%w: no valid superblock at %#x on %s (copy 0: %s; copy 1: %s): the range holds data, and the journal and chunks after the superblocks may still hold committed information; `cmcsync inspect` shows what is there; formatting erases all of it",
			ErrNotFormatted, s.offset, g.Name, why(*c0), why(*c1))
	case c0.good && c1.good && c0.sb != c1.sb:
		if i, ok := s.expectedCopy(copies); ok {
			// One copy is another store's (a superblock of another pair
			// or chip written over it): the expected one is this store's.
			o := &copies[1-i]
			s.find(SuperblockDamaged, -1, s.offset+int64(1-i)*s.eraseSize, 0, "superblock copy %d is another store's (chip %d of pair %#x); using copy %d (chip %d of pair %#x)",
				1-i, o.sb.ChipID, o.sb.PairID, i, copies[i].sb.ChipID, copies[i].sb.PairID)
			s.layout = copies[i].sb
			s.superblockRepair[1-i] = true
			break
		}
		if c0.sb.Version == c1.sb.Version || !sameLayout(c0.sb, c1.sb) {
			s.find(SuperblockDamaged, -1, s.offset+s.eraseSize, 0, "the two superblock copies differ; using copy 0")
			s.layout = c0.sb
			break
		}
		// An upgrade cut by power loss between the two copies: the journal
		// holds no record of the newer version yet. Finish it.
		s.layout = c0.sb
		if c1.sb.Version > c0.sb.Version {
			s.layout = c1.sb
		}
		s.superblockRepair = [2]bool{s.layout != c0.sb, s.layout != c1.sb}
	case c0.good:
		s.layout = c0.sb
		if !c1.good {
			s.noteBadCopy(1, c1)
		}
	default:
		s.layout = c1.sb
		if c0.intent && sameLayout(c0.sb, c1.sb) {
			// A format cut before it replaced its intent with copy 0.
			s.superblockRepair[0] = true
		} else {
			s.noteBadCopy(0, c0)
		}
	}
	if s.layout.EraseSize != g.EraseSize || s.layout.StoreSize != s.size || s.layout.SlotSize != slot {
		return fmt.Errorf("%w: superblock describes a %s store with %s erase blocks, the range is %s of %s blocks (wrong layout?)",
			ErrCorrupt, hal.FormatSize(s.layout.StoreSize), hal.FormatSize(s.layout.EraseSize), hal.FormatSize(s.size), hal.FormatSize(g.EraseSize))
	}
	s.slotSize = slot
	return nil
}

// expectedCopy returns the one superblock copy whose identity is
// Options.Expect's when the other's is not (and the two differ in
// identity): ok is false without Expect, or when both or neither match.
func (s *Store) expectedCopy(copies [2]superblockCopy) (int, bool) {
	want := s.opts.Expect
	if want == nil {
		return 0, false
	}
	match := func(sb Superblock) bool {
		return sb.ChipID == want.ChipID && (want.PairID == 0 || sb.PairID == want.PairID)
	}
	m0, m1 := match(copies[0].sb), match(copies[1].sb)
	switch {
	case m0 && !m1:
		return 0, true
	case m1 && !m0:
		return 1, true
	}
	return 0, false
}

// noteBadCopy records damage to superblock copy i (not good) and marks it
// for repair.
func (s *Store) noteBadCopy(i int, c *superblockCopy) {
	at := s.offset + int64(i)*s.eraseSize
	switch {
	case c.erased:
		s.find(SuperblockDamaged, -1, at, 0, "superblock copy %d is erased", i)
	case c.intent:
		s.find(SuperblockDamaged, -1, at, 0, "superblock copy %d holds a format intent of another layout", i)
	default:
		s.find(SuperblockDamaged, -1, at, 0, "superblock copy %d is damaged: %v", i, c.err)
	}
	s.superblockRepair[i] = true
}

// sameLayout reports whether a and b describe the same store (all but the
// format version equal).
func sameLayout(a, b Superblock) bool {
	a.Version = b.Version
	return a == b
}

// repairSuperblock rewrites the superblock copies marked for repair from
// the one read (copy 1 first: the copy read stays valid throughout, so
// this is power-safe).
func (s *Store) repairSuperblock() error {
	for _, i := range []int64{1, 0} {
		if !s.superblockRepair[i] {
			continue
		}
		if err := s.writeSuperblockCopy(i, s.layout); err != nil {
			return fmt.Errorf("repair superblock copy %d: %w", i, err)
		}
		s.superblockRepair[i] = false
	}
	return nil
}

// writeSuperblockCopy erases store block i and writes sb there.
func (s *Store) writeSuperblockCopy(i int64, sb Superblock) error {
	at := s.offset + i*s.eraseSize
	rec := encodeRecord(kindSuperblock, 0, sb.encode(), s.slotSize)
	for try := 0; ; try++ {
		if err := s.eraseChecked(at, s.eraseSize); err != nil {
			return err
		}
		if _, err := s.flash.WriteAt(rec, at); err != nil {
			return err
		}
		ok, err := s.readsStable(rec, at, make([]byte, len(rec)))
		if err != nil || ok {
			return err
		}
		if try == maxReprograms {
			return fmt.Errorf("%w: superblock copy %d does not read back as written after %d programs", ErrVerify, i, try+1)
		}
	}
}

// writeVersion is the format version this writer writes: FormatVersion
// (an older one in tests that make an older store).
func (s *Store) writeVersion() uint32 {
	if s.version > 0 {
		return s.version
	}
	return FormatVersion
}

// upgrade rewrites an older store's superblocks as FormatVersion (copy 1,
// then copy 0), before a record of the newer version goes into its
// journal. A power loss between the copies leaves copies that differ only
// in their version, which Open finishes.
func (s *Store) upgrade() error {
	v := s.writeVersion()
	if s.layout.Version >= v {
		return nil
	}
	if s.opts.ReadOnly {
		return ErrReadOnly
	}
	sb := s.layout
	sb.Version = v
	for _, i := range []int64{1, 0} {
		if err := s.writeSuperblockCopy(i, sb); err != nil {
			return fmt.Errorf("upgrade the superblock to format version %d: %w", v, err)
		}
	}
	s.layout = sb
	return nil
}
