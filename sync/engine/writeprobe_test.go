package engine

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/store"
)

// chunkWrite is the start of one chunk write in a trace: the operation
// index and clock time of its first program.
type chunkWrite struct {
	index int64
	at    time.Time
}

// chunkWrites returns the chunk writes among traced backup programs of
// the data area [lo, hi): a new chunk starts at a program into another
// erase block than the one before.
func chunkWrites(ops []timedOp, lo, hi, eraseSize int64) []chunkWrite {
	var out []chunkWrite
	last := int64(-1)
	for _, op := range ops {
		if op.Role != faults.Backup || op.Kind != faults.Program || op.Off < lo || op.Off >= hi {
			continue
		}
		if b := op.Off / eraseSize; b != last {
			out = append(out, chunkWrite{op.Index, op.at})
			last = b
		}
	}
	return out
}

// timedOp is a traced operation and the clock time it started at.
type timedOp struct {
	faults.Op
	at time.Time
}

// TestWriteProbeBoundsWritesAfterAnomaly: the monitor step runs while the
// round writes. A primary that dies in the middle of the writes (every
// later read of it fails) interrupts the round within the writes of one
// probe interval (Options.ProbeEvery): no more chunk writes follow the
// failure than ever start within one ProbeEvery in the same round without
// the failure, and RoundReport.WritesAfterAnomaly counts at least those
// and keeps the same bound. The no-write-probe mutant (probes only before
// and after the writes) writes on and breaks the bound.
func TestWriteProbeBoundsWritesAfterAnomaly(t *testing.T) {
	for _, m := range []Mutant{None, NoWriteProbe} {
		t.Run(m.String(), func(t *testing.T) {
			p := newPair(t, 8<<20, 1<<20, DefaultConfig()) // the first round writes every chunk
			opts := p.opts
			opts.Mutant = m
			opts.ProbeEvery = 20 * time.Millisecond
			s, err := store.Open(p.chipB, opts.Layout.StoreOff, opts.Layout.StoreSize, store.Options{ReadOnly: true})
			require.NoError(t, err)
			lo, size := s.DataRange()
			erase := p.chipB.Geometry().EraseSize

			// The round without faults: when each chunk write starts.
			var clean []timedOp
			snapA, snapB := p.chipA.Snapshot(), p.chipB.Snapshot()
			in, chipA, chipB := p.injector(t, true, func(op faults.Op) { clean = append(clean, timedOp{op, p.clock.Now()}) }, "none")
			e, err := Open(context.Background(), chipA, chipB, opts)
			require.NoError(t, err)
			in.Arm()
			_, err = e.Round(context.Background())
			require.NoError(t, err)
			p.chipA.Restore(snapA)
			p.chipB.Restore(snapB)
			writes := chunkWrites(clean, lo, lo+size, erase)
			require.Greater(t, len(writes), 100)
			bound := 0 // the most chunk writes that start within one ProbeEvery
			for i, w := range writes {
				n := 0
				for _, x := range writes[i:] {
					if x.at.Sub(w.at) < opts.ProbeEvery {
						n++
					}
				}
				bound = max(bound, n)
			}
			require.Less(t, bound, len(writes)/4, "a probe interval holds a small part of the round's writes")

			// The primary dies as the tenth chunk write starts: from there on
			// every read of it fails.
			dies := writes[10].index
			var faulted []timedOp
			in, chipA, chipB = p.injector(t, true, func(op faults.Op) { faulted = append(faulted, timedOp{op, p.clock.Now()}) },
				"(on (and primary read (after %d)) (fail timeout))", dies)
			e, err = Open(context.Background(), chipA, chipB, opts)
			require.NoError(t, err)
			in.Arm()
			rep, err := e.Round(context.Background())
			require.NoError(t, err)
			require.Equal(t, OutcomeFailover, rep.Outcome)
			after := 0
			for _, w := range chunkWrites(faulted, lo, lo+size, erase) {
				if w.index >= dies {
					after++
				}
			}
			t.Logf("%v: %d chunk writes after the primary died, report says %d, bound %d (of %d writes)", m, after, rep.WritesAfterAnomaly, bound, len(writes))
			require.GreaterOrEqual(t, rep.WritesAfterAnomaly, after, "the report's count covers every write after the failure")
			if m == NoWriteProbe {
				require.Greater(t, after, bound, "the mutant writes on past one probe interval")
				require.Greater(t, rep.WritesAfterAnomaly, bound)
				return
			}
			require.LessOrEqual(t, after, bound, "interrupted within the writes of one probe interval")
			require.LessOrEqual(t, rep.WritesAfterAnomaly, bound)
		})
	}
}
