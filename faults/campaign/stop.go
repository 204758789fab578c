package campaign

import (
	"github.com/cmcsync/cmcsync/faults"
)

// stopEvery: the round is stopped by its context (faults.Cancel) at every
// stopEvery-th backup write of the recorded round (the first included),
// as a daemon's shutdown or a new configuration cancels a round at any
// point: the engine notices at its next check of the context, mid-write,
// and purges what the round wrote.
const stopEvery = 16

// stopPoints lists the points where the round is stopped by its context:
// at every stopEvery-th backup write, with the backup's erases from there
// on failing loudly (a media error) or silently (success reported, the
// block unchanged), so that the stopped round's purge cannot finish and
// must say so (checkStoppedReported), and the purge's erase-and-verify
// meets a block no erase clears (checkEraseTriesReported).
func (b *bench) stopPoints() []point {
	var ps []point
	writes := 0
	for i, st := range b.steps {
		op := st.op
		if op.Role != faults.Backup || op.Kind == faults.Read {
			continue
		}
		if writes%stopEvery == 0 {
			erases := faults.And{Preds: []faults.Pred{faults.OnRole{Role: faults.Backup}, faults.OnKind{Kind: faults.Erase}, faults.After{Index: int64(i)}}}
			for _, then := range []faults.Action{faults.Fail{Kind: faults.FailMedia}, faults.SilentErase{}} {
				ps = append(ps, point{opIndex: i, kind: pointStop, round: faults.Schedule{Seed: b.seed, Rules: []faults.Rule{
					{When: faults.At{Index: int64(i)}, Do: faults.Cancel{}},
					{When: erases, Do: then},
				}}})
			}
		}
		writes++
	}
	return ps
}
