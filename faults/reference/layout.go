package reference

// Where the parts of a store lie on the chip (docs/FORMAT.md, 4.1), and
// which chip of a pair is active (4.8).

// DataRange returns the chip offset and size of the store's data area.
func (b *Backup) DataRange() (off, size int64) {
	return b.BlockOffset(0), int64(b.Superblock.DataBlocks) * b.Superblock.EraseSize
}

// MetadataRange returns the chip offset and size of the store's metadata:
// the two superblock copies and both journal areas (store blocks 0 to
// 2+2K−1), all that Decode reads.
func (b *Backup) MetadataRange() (off, size int64) {
	return b.StoreOff, int64(b.Superblock.DataFirst) * b.Superblock.EraseSize
}

// NewestRole returns the role that is in charge of a pair whose stores
// decoded as backups (nil entries are stores that did not decode): the
// one with the highest epoch (docs/FORMAT.md, 4.8: "At start, the role
// with the highest epoch among both stores wins"); at an equal epoch, one
// with a restore pending, so that a restore the failover did not finish is
// finished. ok is false if no store decoded.
func NewestRole(backups ...*Backup) (role Role, ok bool) {
	for _, b := range backups {
		if b == nil {
			continue
		}
		r := b.Committed.Role
		if !ok || r.Epoch > role.Epoch || (r.Epoch == role.Epoch && r.RestorePending && !role.RestorePending) {
			role, ok = r, true
		}
	}
	return role, ok
}
