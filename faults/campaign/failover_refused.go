package campaign

import (
	"time"

	"github.com/cmcsync/cmcsync/faults"
)

// failoverTries is how many times the method has the engine try the role
// record of a failover before it gives up for the round (docs/DESIGN.md,
// Invariants, "Failover"): one failed erase, program or read-back of the
// backup's journal must not keep the engine on a primary that stopped
// answering, so it tries once more.
const failoverTries = 2

// backupFaults lists the backup operations whose outcome the injector's
// schedule decided against the engine: a failure, a weak program, an erase
// that did not erase, a block that went bad or wore out. Power cuts are
// not among them (the trace ends there: powerLost covers them).
func backupFaults(in *faults.Injector) []faults.Op {
	var out []faults.Op
	for _, f := range in.Fired() {
		if f.Op.Role != faults.Backup {
			continue
		}
		switch f.Action.(type) {
		case faults.Fail, faults.Weak, faults.SilentErase, faults.GoBad, faults.WearOut:
			out = append(out, f.Op)
		}
	}
	return out
}

// thresholdPassedAt returns the index of the primary's answer at whose end
// the first wait beyond the threshold had lasted longer than it: the
// engine cannot have decided to fail over before that answer returned,
// so only the operations after it can be its role record. ok is false if
// no wait exceeded the threshold.
func thresholdPassedAt(answers []faults.Answer, threshold time.Duration) (int64, bool) {
	for _, w := range primaryWaits(answers, threshold) {
		if w.length <= threshold {
			continue
		}
		for _, a := range answers {
			if a.Op.Role == faults.Primary && a.Op.Index >= w.from.Op.Index && !powerLoss(a) && a.End.Sub(w.from.Start) > threshold {
				return a.Op.Index, true
			}
		}
		return w.to.Op.Index, true
	}
	return 0, false
}

// failoverRefused reports whether the backup refused a due failover: the
// faults defeated at least failoverTries of the backup's operations
// (backup: those on its store's metadata, where the role record goes) after
// the wait passed the threshold (each try of the role record can be
// defeated by one), and the round reported an error. The role record may
// then have landed or not (a failed read-back does not say), as when power
// is lost while it is made.
func failoverRefused(answers []faults.Answer, backup []faults.Op, threshold time.Duration, roundErr error) bool {
	at, ok := thresholdPassedAt(answers, threshold)
	if !ok || roundErr == nil {
		return false
	}
	n := 0
	for _, op := range backup {
		if op.Index > at {
			n++
		}
	}
	return n >= failoverTries
}

// inMetadata keeps of ops those in the backup store's metadata range
// [lo, lo+size) (superblocks and journal areas, as the reference decoder
// reads them): the role record is a journal record, so a chunk write or a
// purge erase in the data area the faults defeated did not defeat it.
func inMetadata(ops []faults.Op, lo, size int64) []faults.Op {
	var out []faults.Op
	for _, op := range ops {
		if op.Off < lo+size && op.Off+op.Len > lo {
			out = append(out, op)
		}
	}
	return out
}
