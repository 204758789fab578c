package reference

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// Sentinel errors: Decode returns them (wrapped, with what is wrong) when
// the store has no usable state.
var (
	// ErrNotFormatted: neither superblock copy is valid.
	ErrNotFormatted = errors.New("store not formatted")
	// ErrLayout: the superblock does not describe the range Decode was
	// given (another store size, areas not where docs/FORMAT.md 4.1 puts
	// them). Check the store offset and size.
	ErrLayout = errors.New("superblock does not match the store range")
	// ErrNoCheckpoint: neither journal area holds a complete checkpoint.
	ErrNoCheckpoint = errors.New("no complete checkpoint in either journal area")
	// ErrRead: the device failed a read.
	ErrRead = errors.New("read failed")
)

// Superblock record (docs/FORMAT.md, 4.4).
const (
	superblockBody    = 64
	superblockRecord  = headerSize + superblockBody + trailerSize
	minFormatVersion  = 1
	maxFormatVersion  = 5
	flashNOR          = 1
	flashNAND         = 2
	minEraseSize      = 128 // the smallest power of two a superblock record fits in
	superblockCopies  = 2
	firstJournalBlock = 2
)

func readAt(r io.ReaderAt, p []byte, off int64) error {
	if _, err := r.ReadAt(p, off); err != nil {
		return fmt.Errorf("%w at %#x+%#x: %w", ErrRead, off, len(p), err)
	}
	return nil
}

// errFormatIntent: the slot holds a valid format-intent record (its body
// is decoded), not a superblock: a format cut before it wrote this copy
// (docs/FORMAT.md, 4.4).
var errFormatIntent = errors.New("a format intent, not a superblock")

// errErased: the slot reads erased.
var errErased = errors.New("erased")

// superblockCopy reads and decodes the superblock record at off: the
// record's bytes, the decoded body, or why it is not a valid copy.
func superblockCopy(r io.ReaderAt, off int64) ([]byte, Superblock, error) {
	buf := make([]byte, superblockRecord)
	if err := readAt(r, buf, off); err != nil {
		return nil, Superblock{}, err
	}
	st, fr, why := parseSlot(buf, 0)
	switch {
	case st == slotErased:
		return buf, Superblock{}, errErased
	case st != slotValid:
		return buf, Superblock{}, errors.New(why)
	case fr.kind == KindFormatIntent && fr.seq == 0 && !fr.reserved:
		sb, err := decodeSuperblock(fr.body)
		if err != nil {
			return buf, sb, err
		}
		return buf, sb, errFormatIntent
	case fr.kind != KindSuperblock:
		return buf, Superblock{}, fmt.Errorf("record kind %s, want superblock", fr.kind)
	case fr.seq != 0:
		return buf, Superblock{}, fmt.Errorf("sequence number %d, want 0", fr.seq)
	case fr.reserved:
		return buf, Superblock{}, errors.New("header reserved bytes are not zero")
	}
	sb, err := decodeSuperblock(fr.body)
	return buf, sb, err
}

// decodeSuperblock decodes and checks the 64-byte body.
func decodeSuperblock(body []byte) (Superblock, error) {
	if len(body) != superblockBody {
		return Superblock{}, fmt.Errorf("body is %d bytes, want %d", len(body), superblockBody)
	}
	f := fields{buf: body}
	var sb Superblock
	sb.FormatVersion = f.u32()
	sb.ChipID = f.u8()
	sb.FlashKind = f.u8()
	reserved := f.u16()
	sb.PairID = f.u64()
	sb.StoreSize = f.i64()
	sb.EraseSize = int64(f.u32())
	sb.SlotSize = int64(f.u32())
	sb.JournalBlocks = f.u32()
	sb.JournalFirst[0] = f.u32()
	sb.JournalFirst[1] = f.u32()
	sb.DataFirst = f.u32()
	sb.DataBlocks = f.u32()
	sb.MaxChunks = f.u32()
	sb.Formatted = f.time()
	switch {
	case sb.FormatVersion < minFormatVersion || sb.FormatVersion > maxFormatVersion:
		f.fail("format version %d, this reader knows %d to %d", sb.FormatVersion, minFormatVersion, maxFormatVersion)
	case sb.ChipID > 1:
		f.fail("chip id %d, want 0 or 1", sb.ChipID)
	case sb.FlashKind != flashNOR && sb.FlashKind != flashNAND:
		f.fail("flash kind %d, want 1 (NOR) or 2 (NAND)", sb.FlashKind)
	case reserved != 0:
		f.fail("reserved bytes 6..7 are %#x, want 0", reserved)
	case sb.EraseSize < minEraseSize || bits.OnesCount64(uint64(sb.EraseSize)) != 1:
		f.fail("erase size %d is not a power of two of at least %d", sb.EraseSize, minEraseSize)
	case sb.SlotSize <= 0 || sb.SlotSize > sb.EraseSize || sb.EraseSize%sb.SlotSize != 0:
		f.fail("slot size %d does not divide the erase size %d", sb.SlotSize, sb.EraseSize)
	case sb.StoreSize <= 0 || sb.StoreSize%sb.EraseSize != 0:
		f.fail("store size %d is not a multiple of the erase size %d", sb.StoreSize, sb.EraseSize)
	case sb.JournalBlocks == 0:
		f.fail("journal areas of 0 blocks")
	}
	return sb, f.end()
}

// readSuperblock takes the first valid copy (docs/FORMAT.md, 4.4 and 4.6
// step 1) and checks it against the store range. Copy 1 is at offset E,
// which only a valid copy tells: when copy 0 is not valid, copy 1 is looked
// for at each power-of-two offset whose copy names that offset as E. want
// is the identity the store must carry, nil when the reader does not know
// it (4.4, Which reader knows the identity). b.SuperblockCopies says what
// each copy holds, the one used and why.
func (b *Backup) readSuperblock(r io.ReaderAt, storeOff, storeSize int64, want *Identity) error {
	raw0, sb0, err0 := superblockCopy(r, storeOff)
	if isRead(err0) {
		return err0
	}
	var (
		raw1 []byte
		sb1  Superblock
		err1 = errors.New("not found at any power-of-two offset")
		off1 int64
	)
	if err0 == nil {
		off1 = storeOff + sb0.EraseSize
		if sb0.EraseSize < storeSize {
			raw1, sb1, err1 = superblockCopy(r, off1)
		} else {
			err1 = errors.New("beyond the store")
		}
	} else {
		for e := int64(minEraseSize); e <= storeSize/2; e *= 2 {
			raw, sb, err := superblockCopy(r, storeOff+e)
			if isRead(err) {
				return err
			}
			if err == nil && sb.EraseSize == e {
				raw1, sb1, err1, off1 = raw, sb, nil, storeOff+e
				break
			}
		}
	}
	if isRead(err1) {
		return err1
	}
	if err0 != nil && err1 != nil {
		off1 = -1 // not found
	}
	c := &b.SuperblockCopies
	c.Copies = [2]CopyReport{copyReport(storeOff, sb0, err0), copyReport(off1, sb1, err1)}
	if err0 == nil && err1 == nil && sb0.ChipID != sb1.ChipID {
		var as [2]int
		as[sb0.ChipID], as[sb1.ChipID] = 0, 1
		c.AsChip = &as
	}
	switch {
	case err0 != nil && err1 != nil:
		return fmt.Errorf("%w: copy 0 at %#x: %v; copy 1: %v", ErrNotFormatted, storeOff, err0, err1)
	case errors.Is(err0, errFormatIntent) && sameLayout(sb0, sb1):
		// A format cut after it wrote copy 1, before copy 0: power
		// loss, not damage.
		b.Superblock = sb1
		c.Used, c.Rule = 1, RuleCutFormat
	case err0 != nil:
		b.find(SuperblockDamaged, -1, storeOff, 0, "copy 0 is not valid (%v); copy 1 at %#x used", err0, off1)
		b.Superblock = sb1
		c.Used, c.Rule = 1, RuleOnlyValid
	case err1 != nil:
		b.find(SuperblockDamaged, -1, off1, 0, "copy 1 is not valid (%v); copy 0 used", err1)
		b.Superblock = sb0
		c.Used, c.Rule = 0, RuleOnlyValid
	case sb0 != sb1 && sameLayout(sb0, sb1):
		// An upgrade of the format version cut between the copies
		// (4.4): power loss, not damage. The journal holds no record
		// of the newer version yet.
		b.Superblock, b.UpgradeCut = sb0, true
		c.Used, c.Rule = 0, RuleUpgradeCut
		if sb1.FormatVersion > sb0.FormatVersion {
			b.Superblock, c.Used = sb1, 1
		}
	case sb0 == sb1 && bytes.Equal(raw0, raw1):
		b.Superblock = sb0
		c.Used, c.Rule = 0, RuleEqual
	default:
		// Damage. A reader that knows the identity uses the one copy
		// that carries it; otherwise copy 0.
		b.Superblock, c.Used, c.Rule = sb0, 0, RuleCopy0
		if m0, m1 := want.carriedBy(sb0), want.carriedBy(sb1); m0 != m1 {
			if m1 {
				b.Superblock, c.Used = sb1, 1
			}
			c.Rule = RuleExpected
			other := [2]Superblock{sb0, sb1}[1-c.Used]
			b.find(SuperblockDamaged, -1, [2]int64{storeOff, off1}[1-c.Used], 0, "the two valid copies differ: copy %d is another store's (chip id %d of pair %#x); copy %d carries the expected identity and is used",
				1-c.Used, other.ChipID, other.PairID, c.Used)
			break
		}
		if !bytes.Equal(raw0, raw1) {
			b.find(SuperblockDamaged, -1, off1, 0, "the two valid copies differ; copy 0 used")
		}
	}
	return b.checkLayout(storeSize)
}

func isRead(err error) bool { return errors.Is(err, ErrRead) }

// sameLayout reports whether a and b describe the same store, but for
// their format versions.
func sameLayout(a, b Superblock) bool {
	a.FormatVersion = b.FormatVersion
	return a == b
}

// checkLayout checks the superblock against the store range and the
// layout of docs/FORMAT.md, 4.1 and 4.4. Positions that do not match make
// the store unreadable (ErrLayout); a K that contradicts the formula, or
// a data area smaller than the rest of the store, is a finding.
func (b *Backup) checkLayout(storeSize int64) error {
	sb := &b.Superblock
	blocks := storeSize / sb.EraseSize
	k := int64(sb.JournalBlocks)
	switch {
	case sb.StoreSize != storeSize:
		return fmt.Errorf("%w: superblock says %d bytes, the range is %d", ErrLayout, sb.StoreSize, storeSize)
	case int64(sb.JournalFirst[0]) != firstJournalBlock:
		return fmt.Errorf("%w: journal area 0 starts at block %d, want %d", ErrLayout, sb.JournalFirst[0], firstJournalBlock)
	case int64(sb.JournalFirst[1]) != firstJournalBlock+k:
		return fmt.Errorf("%w: journal area 1 starts at block %d, want 2+K = %d", ErrLayout, sb.JournalFirst[1], firstJournalBlock+k)
	case int64(sb.DataFirst) != firstJournalBlock+2*k:
		return fmt.Errorf("%w: data area starts at block %d, want 2+2K = %d", ErrLayout, sb.DataFirst, firstJournalBlock+2*k)
	case int64(sb.DataFirst)+int64(sb.DataBlocks) > blocks:
		return fmt.Errorf("%w: data area ends at block %d, the store has %d", ErrLayout, int64(sb.DataFirst)+int64(sb.DataBlocks), blocks)
	}
	if end := int64(sb.DataFirst) + int64(sb.DataBlocks); end != blocks {
		b.find(LayoutMismatch, -1, b.StoreOff, 0, "data area ends at block %d, the store has %d blocks", end, blocks)
	}
	if want := journalBlocks(sb.EraseSize, int64(sb.MaxChunks), blocks); want != k {
		b.find(LayoutMismatch, -1, b.StoreOff, 0, "K is %d, the formula of docs/FORMAT.md 4.4 gives %d for %d max chunks", k, want, sb.MaxChunks)
	}
	return nil
}

// journalBlocks is docs/FORMAT.md 4.4's K: 2 + 8 + maxChunks/⌊(E−44)/44⌋ +
// 1 + 8 + maxChunks/⌊(E−44)/49⌋ + max(64, store blocks/32).
func journalBlocks(e, maxChunks, storeBlocks int64) int64 {
	return 2 + 8 + maxChunks/((e-44)/44) + 1 + 8 + maxChunks/((e-44)/49) + max(64, storeBlocks/32)
}
