// The fade at the recovery's open: after the round, the backup's last
// journal record turns marginal while the CMC is off (faults.Fade: it
// reads right once, then differently), so the open that follows reads it
// right once and differently afterwards. An open that read the journal
// twice (once to check the chips' identities, once to open the store for
// writing) used the record by the first read and lost it by the second:
// the last committed generation rolled back and its blocks purged
// (durable). The open must judge the record once: use it and program it
// again (it then holds), or refuse it.

package campaign

import "github.com/cmcsync/cmcsync/faults"

// fadeOpenPoints lists the fade at the recovery's open: the fault-free
// round, then the backup's last journal program of the recorded round (the
// last page of its last record, the commit) fades at the recovery's first
// operation. None when the recorded round did not commit or wrote no
// journal record.
func (b *bench) fadeOpenPoints() []point {
	if !b.roundOK {
		return nil
	}
	for i := len(b.steps) - 1; i >= 0; i-- {
		op := b.steps[i].op
		if op.Role != faults.Backup || op.Kind != faults.Program || b.inDataArea(op.Off) {
			continue
		}
		fade := faults.Fade{Role: faults.Backup, Lo: op.Off, Hi: op.Off + op.Len}
		return []point{{opIndex: i, kind: pointFadeOpen, recovery: b.rule(faults.At{Index: 0}, fade)}}
	}
	return nil
}
