package campaign

import (
	"errors"
	"fmt"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// The table-miss fault: a chunk of the primary's information changed
// behind its change table's back. The engine's rounds read only the
// chunks the primary's change table names (info.Region.ChangeTable); the
// writer always updates the table, so no round-level fault makes it miss
// a change. This one does, outside the engine: it changes one byte of a
// whole erase block of a record's payload and 16 more bytes after it so
// that both CRCs of info.BlockCheck stay the same (both are affine in the
// data: the flips solve a linear system over GF(2)). The table's entry,
// computed by the writer before, stays right for the old bytes and equal
// for the new; the record's CRC, built from the block checks, holds too.
// Only the scrub, which compares the primary's chunks with their
// committed digests, sees the change.

// forgeAt is where in the erase block the changed byte is; the flipped
// bits are in the 16 bytes 64 bytes after it.
const forgeAt = 100

// forgeTableMiss changes, on chip (the primary), the payload in the
// middle erase block past the first of the longest record, keeping the
// block's checks, and returns that chunk. Chunk i of a record whose
// extent starts on an erase block is the extent's erase block i (the
// header is in chunk 0); the change table's entry covers the whole block.
func forgeTableMiss(chip *sim.Flash, l engine.Layout) (chunkRef, error) {
	region, err := info.OpenRegion(chip, l.InfoOff, l.InfoSize)
	if err != nil {
		return chunkRef{}, fmt.Errorf("table miss: %w", err)
	}
	eb := region.ChangeUnit()
	best, bestLen := info.Type(0), int64(0)
	for _, t := range info.All() {
		off, _ := region.Extent(t)
		_, entries, ok := region.ChangeTable(t)
		rec, err := region.Read(t)
		if err != nil || !ok || off%eb != 0 || entries < 3 {
			continue
		}
		if n := int64(len(rec.Payload)); n > bestLen {
			best, bestLen = t, n
		}
	}
	// The blocks past the first whose changed bytes are payload: 1 .. last.
	last := (info.RecordHeaderSize + bestLen - forgeAt - 80) / eb
	if best == 0 || last < 1 {
		return chunkRef{}, errors.New("table miss: no record with payload past its first erase block")
	}
	i := (last + 1) / 2
	off, _ := region.Extent(best)
	blk := make([]byte, eb)
	if _, err := chip.ReadAt(blk, off+i*eb); err != nil {
		return chunkRef{}, fmt.Errorf("table miss: %w", err)
	}
	if err := forgeSameChecks(blk, forgeAt); err != nil {
		return chunkRef{}, err
	}
	chip.Poke(off+i*eb, blk)
	if _, err := region.Read(best); err != nil {
		return chunkRef{}, fmt.Errorf("table miss: the forged record does not read intact: %w", err)
	}
	return chunkRef{Type: uint8(best), Index: int(i)}, nil
}

// forgeSameChecks changes b (in place) at byte at and at some of the 16
// bytes from at+64 so that info.BlockCheck(b) stays the same.
func forgeSameChecks(b []byte, at int) error {
	if err := faults.ForgeSameCheck(b, at, info.BlockCheck); err != nil {
		return fmt.Errorf("table miss: %w", err)
	}
	return nil
}

// staleTable writes, on chip (the primary), t's record with one byte of
// the middle of its payload changed, then puts back the change table
// entries as they were before the write: a table left stale, which the
// record's CRC contradicts. A round must see that, read the record whole
// and count a table fallback (Status.Counters.TableFallbacks).
func staleTable(chip *sim.Flash, l engine.Layout, t info.Type) error {
	region, err := info.OpenRegion(chip, l.InfoOff, l.InfoSize)
	if err != nil {
		return fmt.Errorf("stale table: %w", err)
	}
	toff, entries, ok := region.ChangeTable(t)
	if !ok {
		return fmt.Errorf("stale table: %v has no change table", t)
	}
	old := make([]byte, entries*info.ChangeEntrySize)
	if _, err := chip.ReadAt(old, toff); err != nil {
		return fmt.Errorf("stale table: %w", err)
	}
	rec, err := region.Read(t)
	if err != nil || len(rec.Payload) == 0 {
		return fmt.Errorf("stale table: %v: %d bytes, %v", t, len(rec.Payload), err)
	}
	rec.Payload[len(rec.Payload)/2] ^= 0xFF
	if err := region.Write(t, rec.Payload); err != nil {
		return fmt.Errorf("stale table: %w", err)
	}
	chip.Poke(toff, old)
	return nil
}
