package store

import (
	"bytes"
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/hal"
)

// sizingTypes is how many types the journal sizing allows for (six, and
// room for two more): each type's chunk list starts a new record.
const sizingTypes = 8

// minEraseSize is the smallest erase block the format supports: a journal
// record never crosses a block and the largest fixed records need about
// 600 bytes.
const minEraseSize = 1024

// FormatOptions says how to lay out a new store.
type FormatOptions struct {
	ChipID uint8     // 0 or 1
	PairID uint64    // identifies the chip pair; the same on both stores
	Time   time.Time // format time (from the engine's clock)
	// MaxChunks is the most chunks a generation may hold (the primary's
	// information region size divided by the erase size, plus one per type);
	// it sizes the journal and the data area must hold twice as many blocks.
	MaxChunks int
	Config    Config // the configuration of generation 0
	Role      Role   // the initial role (epoch 0, active chip 0)
}

// journalBlocks returns the size of one journal area for maxChunks chunks
// with erase size e in a store of storeBlocks blocks: room for a full
// checkpoint, a full-size round's intent, and 64 blocks (or 1/32 of the
// store, if more) of round records between compactions.
func journalBlocks(maxChunks int, e, storeBlocks int64) int64 {
	perCkpt := (e - recordOverhead - 16) / ckptEntrySize
	perIntent := (e - recordOverhead - 16) / intentEntrySize
	ckpt := 2 + sizingTypes + int64(maxChunks)/perCkpt
	intent := 1 + sizingTypes + int64(maxChunks)/perIntent
	return ckpt + intent + max(64, storeBlocks/32)
}

// PlanLayout returns the superblock Format would write for a store of size bytes
// on g, or an error saying why the store does not fit.
func PlanLayout(g hal.Geometry, size int64, o FormatOptions) (Superblock, error) {
	if err := g.Validate(); err != nil {
		return Superblock{}, err
	}
	e := g.EraseSize
	if e < minEraseSize {
		return Superblock{}, fmt.Errorf("erase size %d is below the store's minimum of %d", e, minEraseSize)
	}
	if o.ChipID > 1 {
		return Superblock{}, fmt.Errorf("chip id %d (want 0 or 1)", o.ChipID)
	}
	if o.MaxChunks <= 0 || o.MaxChunks > 1<<24 {
		return Superblock{}, fmt.Errorf("max chunks %d out of range", o.MaxChunks)
	}
	if size <= 0 || size%e != 0 {
		return Superblock{}, fmt.Errorf("store size %d is not a positive multiple of the erase size %d", size, e)
	}
	k := journalBlocks(o.MaxChunks, e, size/e)
	data := size/e - 2 - 2*k
	need := 2*int64(o.MaxChunks) + 4
	if data < need {
		return Superblock{}, fmt.Errorf("store of %s is too small: %d data blocks, need %d for %d chunks (make the store at least %s, or the information region smaller)",
			hal.FormatSize(size), max(data, 0), need, o.MaxChunks, hal.FormatSize((2+2*k+need)*e))
	}
	if data > 1<<31 {
		return Superblock{}, fmt.Errorf("store of %s has too many blocks", hal.FormatSize(size))
	}
	return Superblock{
		Version: FormatVersion, ChipID: o.ChipID, Kind: uint8(g.Kind), PairID: o.PairID,
		StoreSize: size, EraseSize: e, SlotSize: slotSize(g),
		JournalBlocks: uint32(k), Journal: [2]uint32{2, uint32(2 + k)},
		DataFirst: uint32(2 + 2*k), DataBlocks: uint32(data), MaxChunks: uint32(o.MaxChunks),
		Formatted: o.Time.UTC(),
	}, nil
}

// Format lays out an empty store in [off, off+size) of f, in an order a
// power loss cannot turn into something else (docs/FORMAT.md, Superblock):
//
//  1. the format intent (MarkFormatIntent): store block 0 erased, then a
//     format-intent record naming the pair, the layout and the time;
//  2. every other block that is not blank erased (read first);
//  3. a checkpoint of generation 0 (no data, o.Config, o.Role) in journal
//     area 0;
//  4. superblock copy 1;
//  5. store block 0 erased again and superblock copy 0 written there.
//
// Cut before step 4 ends, the range holds a format intent and no valid
// superblock: Open refuses it (ErrFormatInterrupted) and Probe says
// FormatInterrupted; formatting again finishes the job. Cut in step 5, it
// holds a usable store whose copy 0 Open repairs. Format destroys
// whatever the range held.
func Format(f hal.Flash, off, size int64, o FormatOptions) error {
	sb, err := planFormat(f, off, size, o)
	if err != nil {
		return err
	}
	if err := writeFormatIntent(f, off, &sb); err != nil {
		return err
	}
	e := sb.EraseSize
	buf := make([]byte, e)
	for b := int64(1); b < size/e; b++ {
		// A bad NAND block in the data area is left alone: the allocator
		// never hands it out. Superblocks and journal areas must be good.
		if bad, err := hal.IsBad(f, off+b*e); err != nil {
			return fmt.Errorf("format: %w", err)
		} else if bad {
			if b < int64(sb.DataFirst) {
				return badMetadataBlock(off, b, &sb)
			}
			continue
		}
		if _, err := f.ReadAt(buf, off+b*e); err != nil {
			return fmt.Errorf("format: %w", err)
		}
		if !hal.IsErased(buf) {
			if err := f.Erase(off+b*e, e); err != nil {
				return fmt.Errorf("format: %w", err)
			}
		}
	}
	st := State{Config: o.Config.clone(), Role: o.Role}
	img := checkpointImage(&sb, 1, 1, &st, nil, 0, 0)
	a0 := off + int64(sb.Journal[0])*e
	for i := 0; i*int(e) < len(img); i++ {
		blk := img[i*int(e) : min((i+1)*int(e), len(img))]
		if _, err := f.WriteAt(trimFF(blk, sb.SlotSize), a0+int64(i)*e); err != nil {
			return fmt.Errorf("format: write checkpoint: %w", err)
		}
	}
	rec := encodeRecord(kindSuperblock, 0, sb.encode(), sb.SlotSize)
	if _, err := f.WriteAt(rec, off+e); err != nil {
		return fmt.Errorf("format: write superblock copy 1: %w", err)
	}
	if err := f.Erase(off, e); err != nil {
		return fmt.Errorf("format: erase the format intent: %w", err)
	}
	if _, err := f.WriteAt(rec, off); err != nil {
		return fmt.Errorf("format: write superblock copy 0: %w", err)
	}
	return nil
}

// MarkFormatIntent writes the first step of Format alone: store block 0
// erased, then a format-intent record with the layout and identity Format
// would write (the pair, the chip, the time). It destroys what block 0
// held. An engine formatting two chips marks both before it formats
// either, so that a power loss between the two formats leaves no chip
// that Probe calls foreign.
func MarkFormatIntent(f hal.Flash, off, size int64, o FormatOptions) error {
	sb, err := planFormat(f, off, size, o)
	if err != nil {
		return err
	}
	return writeFormatIntent(f, off, &sb)
}

// planFormat returns the superblock Format writes for [off, off+size) of
// f, checking that the range fits the device.
func planFormat(f hal.Flash, off, size int64, o FormatOptions) (Superblock, error) {
	if err := o.Config.Validate(); err != nil {
		return Superblock{}, fmt.Errorf("format: %w", err)
	}
	g := f.Geometry()
	sb, err := PlanLayout(g, size, o)
	if err != nil {
		return sb, err
	}
	if off < 0 || off%g.EraseSize != 0 || off+size > g.Size {
		return sb, fmt.Errorf("store range %#x+%#x does not fit %s or is not erase-aligned", off, size, g.Name)
	}
	return sb, nil
}

// writeFormatIntent erases store block 0 (unless blank) and writes the
// format-intent record of sb there. A block 0 that already holds exactly
// that record and nothing else (MarkFormatIntent's, before Format) is
// left as it is: erasing it again would leave, until the record is
// written back, a blank range beside the other chip's finished store,
// which is what a replaced chip looks like, not a cut format
// (engine.FormatWasCut).
func writeFormatIntent(f hal.Flash, off int64, sb *Superblock) error {
	e := sb.EraseSize
	if bad, err := hal.IsBad(f, off); err != nil {
		return fmt.Errorf("format: %w", err)
	} else if bad {
		return badMetadataBlock(off, 0, sb)
	}
	buf := make([]byte, e)
	if _, err := f.ReadAt(buf, off); err != nil {
		return fmt.Errorf("format: %w", err)
	}
	rec := encodeRecord(kindFormatIntent, 0, sb.encode(), sb.SlotSize)
	if bytes.Equal(buf[:len(rec)], rec) && hal.IsErased(buf[len(rec):]) {
		return nil
	}
	if !hal.IsErased(buf) {
		if err := f.Erase(off, e); err != nil {
			return fmt.Errorf("format: %w", err)
		}
	}
	if _, err := f.WriteAt(rec, off); err != nil {
		return fmt.Errorf("format: write the format intent: %w", err)
	}
	return nil
}

func badMetadataBlock(off, b int64, sb *Superblock) error {
	return fmt.Errorf("format: store block %d at %#x (superblock or journal) is bad; the store needs good blocks there (hint: place the store where the first %d blocks are good)",
		b, off+b*sb.EraseSize, sb.DataFirst)
}

// trimFF returns p without its trailing all-0xFF slots (they need no
// programming).
func trimFF(p []byte, slot int64) []byte {
	n := int64(len(p))
	for n >= slot && hal.IsErased(p[n-slot:n]) {
		n -= slot
	}
	return p[:n]
}
