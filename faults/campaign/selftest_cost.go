package campaign

import (
	"errors"

	"github.com/cmcsync/cmcsync/faults"
)

// costTampers are the self-test's wrong states for the bounded-cost
// invariant: work beyond what the change needs, which leaves every other
// invariant kept.
func costTampers() []tamper {
	return []tamper{
		{invariant: BoundedCost, wrong: "the fault-free round also programmed a free data block", run: cleanRound,
			afterRecovery: func(w *worker, t *trial, rec *recovery, writes *[]faults.Op) error {
				off, err := w.freeDataBlock(*writes)
				if err != nil {
					return err
				}
				last := t.roundWrites[len(t.roundWrites)-1]
				t.roundWrites = append(t.roundWrites[:len(t.roundWrites):len(t.roundWrites)],
					faults.Op{Index: last.Index + 1, Role: faults.Backup, Kind: faults.Program, Off: off, Len: 256})
				return nil
			}},
		{invariant: BoundedCost, wrong: "the recovery erased a free data block no interrupted round named", run: cutMidWrites,
			afterRecovery: func(w *worker, t *trial, rec *recovery, writes *[]faults.Op) error {
				off, err := w.freeDataBlock(*writes)
				if err != nil {
					return err
				}
				return rec.engine.Chip(1).Erase(off, w.bench.eraseSize)
			}},
	}
}

// freeDataBlock returns a data block of chip 1, from the end of the data
// area, that neither the committed generation references nor writes
// touched.
func (w *worker) freeDataBlock(writes []faults.Op) (int64, error) {
	b, err := w.decodeQuiet(1)
	if err != nil {
		return 0, err
	}
	refs := viewOf(b, nil).refs()
	e := w.bench.eraseSize
	for off := w.bench.dataOff + w.bench.dataSize - e; off >= w.bench.dataOff; off -= e {
		touched := false
		for _, op := range writes {
			touched = touched || chipOf(op) == 1 && op.Off < off+e && op.Off+op.Len > off
		}
		if !refs[off] && !touched {
			return off, nil
		}
	}
	return 0, errors.New("no free data block")
}
