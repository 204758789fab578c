package store

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
)

// TestSuperblockRepairChecksItsProgram: a writable Open rewrites a damaged
// superblock copy (repairSuperblock) and reads it back like every program:
// a weak program (read right once) is caught by the second read and the
// copy erased and written again (two erases, two programs of its block);
// a failed program ends Open with that error (hal.ErrMedia), the copy not
// repaired (one erase, one program). Without faults: one erase, one
// program, and the copy reads valid after.
func TestSuperblockRepairChecksItsProgram(t *testing.T) {
	f, _ := newStore(t)
	e := f.Geometry().EraseSize
	copy1 := int64(testStoreOff) + e
	_, err := f.WriteAt(make([]byte, 16), copy1+8) // clears bits: copy 1's CRC fails
	require.NoError(t, err)
	snap := f.Snapshot()

	// openUnder opens the store writable behind an injector of sched and
	// returns the erases and programs of copy 1's block, the index of its
	// first program and Open's error.
	openUnder := func(sched string) (erases, programs int, first int64, err error) {
		s, perr := faults.ParseSchedule(sched)
		require.NoError(t, perr)
		first = -1
		in := faults.NewInjector(s, faults.Options{Trace: func(op faults.Op) {
			if op.Off < copy1 || op.Off >= copy1+e {
				return
			}
			switch op.Kind {
			case faults.Erase:
				erases++
			case faults.Program:
				if first < 0 {
					first = op.Index
				}
				programs++
			}
		}})
		_, err = Open(in.Wrap(f, faults.Backup), testStoreOff, testStoreSize, Options{})
		return erases, programs, first, err
	}
	erases, programs, at, err := openUnder("none")
	require.NoError(t, err)
	require.Equal(t, [2]int{1, 1}, [2]int{erases, programs})
	require.Positive(t, at)
	require.Empty(t, findingsOfKind(t, f, SuperblockDamaged), "repaired")

	for _, tc := range []struct {
		fault             string
		wantErr           error
		erases, programs  int
		damagedAfterwards bool
	}{
		{"weak", nil, 2, 2, false},
		{"(fail media)", hal.ErrMedia, 1, 1, true},
	} {
		f.Restore(snap)
		erases, programs, _, err := openUnder(fmt.Sprintf("(on (at %d) %s)", at, tc.fault))
		if tc.wantErr == nil {
			require.NoError(t, err, tc.fault)
		} else {
			require.ErrorIs(t, err, tc.wantErr, tc.fault)
			require.ErrorContains(t, err, "repair superblock copy 1: ", tc.fault)
		}
		require.Equal(t, [2]int{tc.erases, tc.programs}, [2]int{erases, programs}, tc.fault)
		damaged := findingsOfKind(t, f, SuperblockDamaged)
		require.Equal(t, tc.damagedAfterwards, len(damaged) == 1, "%s: %v", tc.fault, damaged)
	}
}
