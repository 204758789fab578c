package store

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
)

// TestSuperblockCopyThatNeverReadsBack: when every program of a damaged
// superblock copy's block is weak (reads right once, then not), Open's
// repair erases and programs it maxReprograms+1 times in all and then fails
// with ErrVerify, saying how many programs it made; it does not try
// forever. The copy read stays intact: a read-only Open still opens the
// store afterwards.
func TestSuperblockCopyThatNeverReadsBack(t *testing.T) {
	f, _ := newStore(t)
	e := f.Geometry().EraseSize
	copy1 := int64(testStoreOff) + e
	_, err := f.WriteAt(make([]byte, 16), copy1+8) // clears bits: copy 1's CRC fails
	require.NoError(t, err)

	const bound = 4 * (maxReprograms + 1) // far more than the repair may make
	erases, programs := 0, 0
	sched := mustSchedule(t, fmt.Sprintf("(seed 1) (on (and program (addr %#x %#x)) weak)", copy1, copy1+e))
	in := faults.NewInjector(sched, faults.Options{Trace: func(op faults.Op) {
		if op.Off < copy1 || op.Off >= copy1+e {
			return
		}
		switch op.Kind {
		case faults.Erase:
			erases++
		case faults.Program:
			programs++
		}
		if erases+programs > 2*bound {
			t.Fatalf("the repair of superblock copy 1 goes on: %d erases and %d programs", erases, programs)
		}
	}})
	_, err = Open(in.Wrap(f, faults.Backup), testStoreOff, testStoreSize, Options{})
	require.ErrorIs(t, err, ErrVerify)
	require.EqualError(t, err, fmt.Sprintf("repair superblock copy 1: %v: superblock copy 1 does not read back as written after %d programs", ErrVerify, maxReprograms+1))
	require.Equal(t, [2]int{maxReprograms + 1, maxReprograms + 1}, [2]int{erases, programs}, "erases and programs of copy 1's block")
	_, err = Open(f, testStoreOff, testStoreSize, Options{ReadOnly: true})
	require.NoError(t, err)
}
