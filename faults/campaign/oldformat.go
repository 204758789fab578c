package campaign

import (
	"fmt"

	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sim"
)

// An older store ("oldformat"): right after the format, both chips' stores
// are rewritten as format version Scenario.FormatVersion the way
// docs/FORMAT.md, 4.11, describes an older writer's store of the same
// layout (both superblock copies carry the older version; nothing else
// differs). The first sync writes whole chunks only, which leaves the
// version as it is, so the round under test is the one whose first delta
// upgrades the store (superblock copy 1, then copy 0) before its intent:
// the campaign cuts and tears every operation of that upgrade and of the
// round after it.

// storesAsVersion rewrites both superblock copies of the store at
// (storeOff, the chip's erase size) on every chip as format version v.
func storesAsVersion(chips [2]*sim.Flash, storeOff int64, v uint32) error {
	for i, c := range chips {
		e := c.Geometry().EraseSize
		for copyNo := int64(0); copyNo < 2; copyNo++ {
			at := storeOff + copyNo*e
			block := make([]byte, e)
			if _, err := c.ReadAt(block, at); err != nil {
				return fmt.Errorf("chip %d superblock copy %d: %w", i, copyNo, err)
			}
			rec, err := reference.SuperblockAsVersion(block, v)
			if err != nil {
				return fmt.Errorf("chip %d superblock copy %d: %w", i, copyNo, err)
			}
			if err := c.Erase(at, e); err != nil {
				return fmt.Errorf("chip %d superblock copy %d: %w", i, copyNo, err)
			}
			if _, err := c.WriteAt(rec, at); err != nil {
				return fmt.Errorf("chip %d superblock copy %d: %w", i, copyNo, err)
			}
		}
	}
	return nil
}
