package campaign

import (
	"github.com/cmcsync/cmcsync/faults"
)

// wornErasePoints lists the areas of the round whose erases all fail
// silently: from the round's first backup erase outside the data area on
// (the journal and superblocks), every erase there reports success and
// leaves the block unchanged; likewise from its first erase of the data
// area on, every data erase. A block there no erase clears: the method's
// erase-and-verify tries it EraseTries times, then the write fails and
// says so (checkEraseTriesReported), and the round ends without a
// commit, purged by the recovery (whose erases work again).
func (b *bench) wornErasePoints() []point {
	return b.areaPoints(faults.Erase, pointWornErase, faults.SilentErase{})
}
