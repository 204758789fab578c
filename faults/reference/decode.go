package reference

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Decode reads the store in [storeOff, storeOff+storeSize) of r: the
// superblocks and both journal areas, never the data area
// (docs/FORMAT.md, 4.6). It returns an error wrapping ErrNotFormatted,
// ErrLayout, ErrNoCheckpoint or ErrRead only when there is no usable
// state; damage that leaves one is reported in Backup.Findings and the
// state is the one before it.
//
// Area selection: an area whose first record is a valid checkpoint-begin
// has that record's epoch; the area with the higher epoch is tried first,
// and the other is used if its checkpoint is incomplete or inconsistent.
//
// Decode is a reader that does not know the store's identity: of two valid
// superblock copies that differ it uses copy 0 (4.4); DecodeAs is one that
// does.
func Decode(r io.ReaderAt, storeOff, storeSize int64) (*Backup, error) {
	return decode(r, storeOff, storeSize, nil)
}

// DecodeAs is Decode by a reader that knows which chip of which pair the
// store must be (docs/FORMAT.md 4.4, Which reader knows the identity): of
// two valid superblock copies that differ, the one copy that carries want
// is used, and the other is damage.
func DecodeAs(r io.ReaderAt, storeOff, storeSize int64, want Identity) (*Backup, error) {
	return decode(r, storeOff, storeSize, &want)
}

func decode(r io.ReaderAt, storeOff, storeSize int64, want *Identity) (*Backup, error) {
	if storeOff < 0 || storeSize <= 0 {
		return nil, fmt.Errorf("%w: store range %#x+%#x", ErrLayout, storeOff, storeSize)
	}
	b := &Backup{StoreOff: storeOff}
	if err := b.readSuperblock(r, storeOff, storeSize, want); err != nil {
		return nil, err
	}
	cands, torn, err := b.candidates(r)
	if err != nil {
		return nil, err
	}
	var why []string
	for _, c := range cands {
		scan, err := b.readArea(r, c.area)
		if err != nil {
			return nil, err
		}
		b.Findings = append(b.Findings, scan.findings...)
		cp, err := readCheckpoint(scan.frames, &b.Superblock)
		if err != nil {
			kind := CheckpointDamaged
			if errors.Is(err, errIncomplete) {
				kind = CheckpointIncomplete
			}
			b.find(kind, c.area, b.areaOff(c.area), c.seq, "checkpoint of epoch %d not usable: %v", c.epoch, err)
			why = append(why, fmt.Sprintf("area %d: %v", c.area, err))
			continue
		}
		b.replay(c.area, cp, scan)
		for _, t := range torn {
			if err := b.judgeTornStart(r, t); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	if len(cands) == 0 {
		why = append(why, "neither area starts with a valid checkpoint-begin")
	}
	return nil, fmt.Errorf("%w: %v", ErrNoCheckpoint, why)
}

// areaCandidate is a journal area whose first record is a valid
// checkpoint-begin.
type areaCandidate struct {
	area  int
	epoch uint64
	seq   uint64
}

func (b *Backup) areaOff(area int) int64 {
	return b.StoreOff + int64(b.Superblock.JournalFirst[area])*b.Superblock.EraseSize
}

// tornStart is an area whose first slot holds an invalid record.
type tornStart struct {
	area int
	why  string
}

// candidates reads each area's first record and returns the areas that
// start with a valid checkpoint-begin, highest epoch first, and those
// that start with an invalid record.
func (b *Backup) candidates(r io.ReaderAt) ([]areaCandidate, []tornStart, error) {
	e := b.Superblock.EraseSize
	first := make([]byte, e)
	var (
		cands []areaCandidate
		torn  []tornStart
	)
	for area := range 2 {
		off := b.areaOff(area)
		if err := readAt(r, first, off); err != nil {
			return nil, nil, err
		}
		st, fr, why := parseSlot(first, 0)
		switch {
		case st == slotErased:
			continue
		case st == slotInvalid:
			torn = append(torn, tornStart{area, why})
			continue
		case fr.kind != KindCheckpointBegin:
			b.find(AreaUnknown, area, off, fr.seq, "the area starts with a valid %s record, not a checkpoint-begin", fr.kind)
			continue
		}
		f := fields{buf: fr.body}
		cands = append(cands, areaCandidate{area: area, epoch: f.u64(), seq: fr.seq})
	}
	if len(cands) == 2 && cands[0].epoch == cands[1].epoch {
		b.find(CheckpointDamaged, 1, b.areaOff(1), cands[1].seq, "both areas carry epoch %d", cands[0].epoch)
	}
	slices.SortStableFunc(cands, func(x, y areaCandidate) int {
		if x.epoch != y.epoch {
			return cmp.Compare(y.epoch, x.epoch)
		}
		return cmp.Compare(y.seq, x.seq)
	})
	return cands, torn, nil
}

// judgeTornStart tells what an invalid first record of the area not in
// charge is. A compaction cut by power loss while it programmed its
// checkpoint-begin wrote nothing after it: CheckpointIncomplete. If the
// area holds a valid record newer than the journal in charge (a higher
// sequence number than its last record), a checkpoint-begin was written
// and the records after it — a whole newer journal, perhaps — were lost
// with it: the state is older than what the store had committed
// (CheckpointDamaged).
func (b *Backup) judgeTornStart(r io.ReaderAt, t tornStart) error {
	sb := &b.Superblock
	area := make([]byte, int64(sb.JournalBlocks)*sb.EraseSize)
	if err := readAt(r, area, b.areaOff(t.area)); err != nil {
		return err
	}
	last := b.Journal[len(b.Journal)-1].Seq
	for pos := 0; pos+headerSize <= len(area); pos += int(sb.SlotSize) {
		block := area[pos/int(sb.EraseSize)*int(sb.EraseSize):][:sb.EraseSize]
		st, fr, _ := parseSlot(block, pos%int(sb.EraseSize))
		if st == slotValid && fr.seq > last {
			b.find(CheckpointDamaged, t.area, b.areaOff(t.area), 0,
				"the area's first record is invalid (%s), yet it holds a %s record of seq %d at %#x, newer than the journal in charge (last seq %d): its checkpoint-begin was damaged, and the state is older than the store's",
				t.why, fr.kind, fr.seq, b.areaOff(t.area)+int64(pos), last)
			return nil
		}
	}
	b.find(CheckpointIncomplete, t.area, b.areaOff(t.area), 0, "the area's first record is invalid (%s): a compaction cut while it wrote its checkpoint-begin", t.why)
	return nil
}

// readArea reads journal area 0 or 1 whole and scans it.
func (b *Backup) readArea(r io.ReaderAt, area int) (areaScan, error) {
	sb := &b.Superblock
	buf := make([]byte, int64(sb.JournalBlocks)*sb.EraseSize)
	if err := readAt(r, buf, b.areaOff(area)); err != nil {
		return areaScan{}, err
	}
	return scanArea(buf, b.areaOff(area), area, int(sb.EraseSize), int(sb.SlotSize)), nil
}

// replay takes the checkpoint's state and applies the records after it
// until the journal ends or a record cannot be applied.
func (b *Backup) replay(area int, cp checkpoint, scan areaScan) {
	b.Area, b.Epoch = area, cp.epoch
	b.Committed = cp.state
	b.Staged = cp.staged
	b.Cursor, b.Wraps = cp.cursor, cp.wraps
	b.resetKnownErased(cp.cursor, cp.wraps)
	b.Torn = scan.torn
	rp := newReplayer(b)
	n := cp.records
	for ; n < len(scan.frames); n++ {
		fr := scan.frames[n]
		if br := rp.apply(fr); br != nil {
			b.find(br.kind, area, fr.off, fr.seq, "%s record: %v; the state is the one before it", fr.kind, br.err)
			break
		}
	}
	b.Applied = n
	b.Journal = make([]Record, len(scan.frames))
	for i, fr := range scan.frames {
		b.Journal[i] = Record{Kind: fr.kind, Seq: fr.seq, Off: fr.off, Size: fr.size}
	}
	b.Copies = nil
	for _, fr := range scan.copies {
		b.Copies = append(b.Copies, Record{Kind: fr.kind, Seq: fr.seq, Off: fr.off, Size: fr.size})
	}
}
