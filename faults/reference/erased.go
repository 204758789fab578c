package reference

// The known-erased sets of docs/FORMAT.md, 4.7 ("Known erased"): the data
// blocks a writer may program without erasing them first, rebuilt from the
// checkpoint and the records after it.

// knownErased holds the two sets while the journal is replayed.
type knownErased struct {
	// erased: spares of committed intents and blocks of purged intents
	// since the checkpoint, not named by an intent since.
	erased map[uint32]bool
	// blank: blocks from blankFrom on (the checkpoint's cursor if its
	// wraps is 0, else none) not named by an intent since (named).
	blankFrom uint32
	named     map[uint32]bool
}

// resetKnownErased starts the sets from a checkpoint's cursor and wraps.
func (b *Backup) resetKnownErased(cursor, wraps uint32) {
	b.known = knownErased{erased: map[uint32]bool{}, named: map[uint32]bool{}, blankFrom: b.Superblock.DataBlocks}
	if wraps == 0 {
		b.known.blankFrom = cursor
	}
}

// nameBlock: an intent names data block d, which is no longer known
// erased.
func (b *Backup) nameBlock(d uint32) {
	if b.known.named == nil {
		return
	}
	delete(b.known.erased, d)
	b.known.named[d] = true
}

// markErased: data block d is erased by the store and unused since.
func (b *Backup) markErased(d uint32) {
	if b.known.erased != nil {
		b.known.erased[d] = true
	}
}

// KnownErased reports whether data block d is in the known-erased sets
// after the replay: erased (a spare of an intent committed since the
// checkpoint, or a block of an intent purged since, that no intent named
// after) or blank (not written since the format: from the checkpoint's
// cursor on while its wraps is 0, and named by no intent since). A writer
// programs an erased block without a read, a blank one after reading it
// erased; any other block it erases first. The sets say nothing about a
// journal with damage (a writer then empties them).
func (b *Backup) KnownErased(d uint32) (erased, blank bool) {
	k := &b.known
	return k.erased[d], d >= k.blankFrom && d < b.Superblock.DataBlocks && !k.named[d]
}
