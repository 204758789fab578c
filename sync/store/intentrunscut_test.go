package store

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
)

// TestPowerCutInIntentRunsRecords cuts the first round of a store — 100
// chunks written whole into consecutive blocks, listed in intent-runs
// records — at each page program of its journal records (intent,
// intent-runs, commit), cleanly, torn ("(seed N) (on (at N) (torn
// bits))") and torn unstable (all but one bit, reading differently from
// read to read): the store reopens without damage (a torn record at the
// journal's end is a torn tail), at generation 0 or at generation 1 with
// its payload, and after the purge of a cut round the next round commits
// and reads back.
func TestPowerCutInIntentRunsRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("a round per journal program")
	}
	f := newChip(t)
	formatTest(t, f)
	snap := f.Snapshot()
	ps := payloads{1: randomBytes(1, 100*4096-100)}
	s := openTest(t, f, Options{ReadOnly: true})
	jlo, jhi := s.offset+2*s.eraseSize, s.BlockOffset(0)
	var journal []int64
	roundUnderSchedule(t, f, faults.Schedule{}, func(op faults.Op) {
		if op.Kind == faults.Program && op.Off >= jlo && op.Off < jhi {
			journal = append(journal, op.Index)
		}
	}, 1, ps, compactVersion)
	s = openTest(t, f, Options{ReadOnly: true})
	require.Positive(t, journalKinds(t, s)["intent-runs"], "the round listed its chunks as runs")
	require.GreaterOrEqual(t, len(journal), 3, "intent, intent-runs, commit")
	t.Logf("%d journal programs cut", len(journal))

	for _, n := range journal {
		for _, sched := range []faults.Schedule{
			faults.CutAt(n),
			faults.TornAt(n, faults.TornBits, false, uint64(n)),
			faults.TornAt(n, faults.TornAllButOne, true, uint64(n)),
		} {
			f.Restore(snap)
			in := roundUnderSchedule(t, f, sched, nil, 1, ps, compactVersion)
			require.True(t, in.PoweredOff(), "%v", sched)
			s, err := Open(f, testStoreOff, testStoreSize, Options{})
			require.NoError(t, err, "reopen after %v", sched)
			require.Empty(t, s.Damage(), "%v", sched)
			switch s.State().Generation {
			case 1:
				checkPayloads(t, s, ps)
			default:
				require.Zero(t, s.State().Generation, "%v", sched)
				if s.Interrupted() != nil {
					_, err := s.Purge()
					require.NoError(t, err, "%v", sched)
				}
				runRound(t, s, 1, ps)
			}
			s = openTest(t, f, Options{ReadOnly: true})
			checkPayloads(t, s, ps)
			require.Empty(t, s.VerifyChunks(), "%v", sched)
		}
	}
}
