package store

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
)

// TestWeakCheckpointErasesOnlyWhatItProgrammed: a compaction whose
// checkpoint spans several blocks programs its first block weakly
// ("(on (at N) weak)" on the first program). The checkpoint is erased and
// written again, but only the blocks it had programmed are erased again:
// the later ones were erased, read back erased and not programmed since,
// and another erase would only wear them (bounded-wear). The compaction
// still succeeds and the store reopens with its state.
func TestWeakCheckpointErasesOnlyWhatItProgrammed(t *testing.T) {
	f, s := newStore(t)
	ps := payloads{1: randomBytes(1, 400000), 2: randomBytes(2, 300000)}
	for gen := uint64(1); gen <= 3; gen++ {
		ps[1][int(gen)*9000] ^= 1
		runRound(t, s, gen, ps)
	}
	snap := f.Snapshot()
	es := s.eraseSize

	// compactUnder compacts under the schedule (operation 0 is the
	// compaction's first) and returns the erases and programs of each
	// block, by offset; it notes the index of the first program.
	firstProgram := int64(-1)
	compactUnder := func(rules string) (erases, programs map[int64]int) {
		sched, err := faults.ParseSchedule(rules)
		require.NoError(t, err)
		t.Logf("fault schedule: %v", sched)
		erases, programs = map[int64]int{}, map[int64]int{}
		in := faults.NewInjector(sched, faults.Options{Disarmed: true, SplitPages: true, BlockEraseSize: es, Trace: func(op faults.Op) {
			for off := op.Off / es * es; off < op.Off+op.Len; off += es {
				switch op.Kind {
				case faults.Erase:
					erases[off]++
				case faults.Program:
					programs[off]++
					if firstProgram < 0 {
						firstProgram = op.Index
					}
				}
			}
		}})
		cs := openTest(t, in.Wrap(f, faults.Backup), Options{})
		in.Arm()
		require.NoError(t, cs.Compact())
		require.NoError(t, in.Err(), "the harness itself")
		return erases, programs
	}
	erases, programs := compactUnder("none")
	require.GreaterOrEqual(t, len(programs), 2, "the checkpoint spans several blocks")
	first := int64(-1)
	for off := range programs {
		if first < 0 || off < first {
			first = off
		}
	}

	f.Restore(snap)
	weakErases, _ := compactUnder(fmt.Sprintf("(on (at %d) weak)", firstProgram))
	for off, n := range erases {
		want := n
		if off == first {
			want++ // the weak block, erased again
		}
		require.Equal(t, want, weakErases[off], "erases of the block at %#x", off)
	}
	re := openTest(t, f, Options{})
	checkPayloads(t, re, ps)
}
