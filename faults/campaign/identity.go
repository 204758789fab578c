package campaign

import (
	"io"

	"github.com/cmcsync/cmcsync/faults/reference"
)

// The oracle holds both chips of the pair in their positions, so it reads
// each store as the engine must (docs/FORMAT.md 4.4, Which reader knows
// the identity): chip A's store is chip id 0, chip B's chip id 1, both of
// the pair the other chip's store carries. Of two valid superblock copies
// that differ, the one carrying that identity is used — not copy 0, which
// is what a reader knowing no identity (reference.Decode) takes.

// decodeChip reads the store in [storeOff, storeOff+storeSize) of mine,
// the chip in position chip (0: chip A, 1: chip B), as a reader that
// knows its identity: chip id chip, and the pair of the store on other,
// the other chip (nil if there is none). The pair is read from other only
// when the chip id alone leaves mine's two copies different or the store
// unreadable (a copy of another pair, of another layout, taken): the
// identity decides nothing otherwise. It is read as the other chip's chip
// id alone expects (the engine likewise reads the other chip's
// superblock).
func decodeChip(mine, other io.ReaderAt, chip int, storeOff, storeSize int64) (*reference.Backup, error) {
	want := reference.Identity{ChipID: uint8(chip)}
	b, err := reference.DecodeAs(mine, storeOff, storeSize, want)
	if other == nil || err == nil && !copiesDiffer(b) {
		return b, err
	}
	o, oerr := reference.DecodeAs(other, storeOff, storeSize, reference.Identity{ChipID: uint8(1 - chip)})
	if oerr != nil {
		return b, err // the other chip carries no pair: the chip id alone
	}
	want.PairID = o.Superblock.PairID
	return reference.DecodeAs(mine, storeOff, storeSize, want)
}

// copiesDiffer reports whether b's store has two valid superblock copies
// that differ (other than by an upgrade cut): the case where which reader
// reads it, and with which identity, decides the copy.
func copiesDiffer(b *reference.Backup) bool {
	r := b.SuperblockCopies.Rule
	return r == reference.RuleCopy0 || r == reference.RuleExpected
}
