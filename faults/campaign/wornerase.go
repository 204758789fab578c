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
	data := faults.Addr{Lo: b.dataOff, Hi: b.dataOff + b.dataSize}
	var ps []point
	journal, dataSeen := false, false
	for i, st := range b.steps {
		op := st.op
		if op.Role != faults.Backup || op.Kind != faults.Erase {
			continue
		}
		from := []faults.Pred{faults.OnRole{Role: faults.Backup}, faults.OnKind{Kind: faults.Erase}, faults.After{Index: int64(i)}}
		switch {
		case !b.inDataArea(op.Off) && !journal:
			journal = true
			ps = append(ps, point{opIndex: i, kind: pointWornErase, round: b.rule(faults.And{Preds: append(from, faults.Not{Pred: data})}, faults.SilentErase{})})
		case b.inDataArea(op.Off) && !dataSeen:
			dataSeen = true
			ps = append(ps, point{opIndex: i, kind: pointWornErase, round: b.rule(faults.And{Preds: append(from, data)}, faults.SilentErase{})})
		}
	}
	return ps
}
