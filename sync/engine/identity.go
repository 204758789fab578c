package engine

import (
	"errors"
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/store"
)

// Identity errors of Open: the chips given do not carry the identities of
// their configured roles, so a round would read or write the wrong chip.
var (
	// ErrWrongChip: a chip's store carries the other chip's identity (a
	// chip re-imaged from a dump of the other, or the chips given the
	// wrong way round).
	ErrWrongChip = errors.New("chip carries the wrong identity")
	// ErrForeignPair: the two chips' stores were formatted as different
	// pairs.
	ErrForeignPair = errors.New("chips belong to different pairs")
)

// chipRoles names the chips by the role Open was given them in: chip A is
// the one given as the primary (formatted as chip id 0), chip B the one
// given as the backup (chip id 1). The role record names which of the two
// ids is active; it never changes which chip is which.
var chipRoles = [2]string{"chip A (given as the primary)", "chip B (given as the backup)"}

// chipLabel is chip i as messages name it: its role, then the chip's name
// unless that only repeats the role ("chip B (given as the backup)
// flash1", not "chip B (given as the backup) backup": the command line
// names simulated chips primary and backup when the spec names none).
func chipLabel(i int, name string) string {
	if name == "" || name == [2]string{"primary", "backup"}[i&1] {
		return chipRoles[i&1]
	}
	return chipRoles[i&1] + " " + name
}

// chipIdentity is what a chip's store superblock says the chip is.
type chipIdentity struct {
	known  bool // the superblock was read (a chip without a readable store has no identity to check)
	chipID uint8
	pairID uint64
}

// readIdentity reads the identity of chip's store from its superblocks
// alone (store.ReadIdentity): nothing is written to a chip before its
// identity is checked, and the journal is read once per Open, by the
// writable open that follows the check (openStore), so no journal record
// is judged by one read and written on after another. A chip whose
// superblocks Open would refuse (not formatted, a format cut, a version
// this package does not read, a layout that does not fit) has no identity
// to check; one whose journal is unusable has one.
func readIdentity(chip hal.Flash, l Layout) chipIdentity {
	return readIdentityExpecting(chip, l, nil)
}

// readIdentityExpecting is readIdentity with store.Options.Expect: of two
// superblock copies that differ in identity, the one expected is read.
func readIdentityExpecting(chip hal.Flash, l Layout, expect *store.Identity) chipIdentity {
	id, err := store.ReadIdentity(chip, l.StoreOff, l.StoreSize, store.Options{Expect: expect})
	if err != nil {
		return chipIdentity{}
	}
	return chipIdentity{known: true, chipID: id.ChipID, pairID: id.PairID}
}

// resolveIdentities reads again, expecting the identity of its role (chip
// id i, the other chip's pair), each chip whose identity does not fit:
// when one of its two superblock copies was overwritten by another
// store's (a superblock of another pair or chip), the copy that fits is
// its own, and the other is damage the read-write open repairs. A chip
// whose copies agree keeps the identity they carry.
func resolveIdentities(chips [2]hal.Flash, l Layout, ids [2]chipIdentity) [2]chipIdentity {
	if checkIdentity(chips, ids) == nil {
		return ids
	}
	out := ids
	for i := range 2 {
		if !ids[i].known {
			continue
		}
		want := store.Identity{ChipID: uint8(i)}
		if o := ids[1-i]; o.known {
			want.PairID = o.pairID
		}
		if got := readIdentityExpecting(chips[i], l, &want); got.known {
			out[i] = got
		}
	}
	return out
}

// expectOf is the identity chip i's store must carry (store.Options.Expect)
// given the identities Open checked: nil when none is known.
func expectOf(ids [2]chipIdentity, i int) *store.Identity {
	if !ids[i].known {
		return nil
	}
	return &store.Identity{ChipID: uint8(i), PairID: ids[i].pairID}
}

// checkIdentity reports whether chips (chip A, chip B) carry the
// identities of their roles: chip A's store formatted as chip id 0, chip
// B's as chip id 1, both of one pair. A chip whose store cannot be read is
// not checked (Open handles a missing store as before). The error names
// what was found and what to do; nothing is written.
func checkIdentity(chips [2]hal.Flash, ids [2]chipIdentity) error {
	names := [2]string{chips[0].Geometry().Name, chips[1].Geometry().Name}
	a, b := ids[0], ids[1]
	swapped := a.known && b.known && a.chipID == 1 && b.chipID == 0
	switch {
	case swapped:
		return fmt.Errorf("%w: %s %s carries chip B's store and %s %s carries chip A's: the chips are given the wrong way round; give %s as the primary and %s as the backup",
			ErrWrongChip, chipRoles[0], names[0], chipRoles[1], names[1], names[1], names[0])
	case b.known && b.chipID != 1:
		return fmt.Errorf("%w: %s %s carries chip A's store (chip id 0 of pair %#x), not chip B's: it holds a copy of the primary's store (a backup re-imaged from a dump of the primary?). "+
			"Nothing was written: a round would read it as the primary and overwrite the primary's store. Check that the backup given is the backup chip; "+
			"to use %s as the backup, format its store anew as chip B of this pair, which erases the copy its store holds",
			ErrWrongChip, chipRoles[1], names[1], b.pairID, names[1])
	case a.known && a.chipID != 0:
		return fmt.Errorf("%w: %s %s carries chip B's store (chip id 1 of pair %#x), not chip A's: it holds a copy of the backup's store (a primary re-imaged from a dump of the backup?). "+
			"Nothing was written: a round would write the backup's store from the wrong chip. Check that the primary given is the primary chip; "+
			"to use %s as the primary, format its store anew as chip A of this pair, which erases the copy its store holds",
			ErrWrongChip, chipRoles[0], names[0], a.pairID, names[0])
	case a.known && b.known && a.pairID != b.pairID:
		return fmt.Errorf("%w: %s %s belongs to pair %#x and %s %s to pair %#x: the two chips were not formatted together. "+
			"Nothing was written. Check that the primary and the backup given are the two chips of one CMC; "+
			"a chip brought from another pair must have its store formatted anew as part of this pair, which erases what its store holds",
			ErrForeignPair, chipRoles[0], names[0], a.pairID, chipRoles[1], names[1], b.pairID)
	}
	return nil
}
