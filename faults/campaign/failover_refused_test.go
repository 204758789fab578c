package campaign

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
)

// TestFailoverRefused: the backup refused a due failover only if the
// faults defeated at least failoverTries backup operations after the wait
// passed the threshold and the round reported an error; one defeated
// operation, or faults before the engine could have decided, excuse
// nothing (the engine tries the role record again).
func TestFailoverRefused(t *testing.T) {
	const th = 2 * time.Second
	ms := time.Millisecond
	roundErr := errors.New("failover: store role: media error")
	// #0..#2 fail after 1 s each: the wait passes the threshold at the end
	// of #2 (3 s); #3 answers it.
	slow := answersOf(request{took: time.Second, err: hal.ErrTimeout}, request{took: time.Second, err: hal.ErrTimeout}, request{took: time.Second, err: hal.ErrTimeout}, request{took: ms})
	backup := func(idx ...int64) []faults.Op {
		var out []faults.Op
		for _, i := range idx {
			out = append(out, faults.Op{Index: i, Role: faults.Backup, Kind: faults.Program})
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		answers []faults.Answer
		backup  []faults.Op
		err     error
		refused bool
	}{
		{"two faults after the threshold, error reported", slow, backup(5, 6), roundErr, true},
		{"a wait of exactly the threshold: not due", answersOf(request{took: th}), backup(5, 6), roundErr, false},
		{"a wait one tick past it (the decision after #0)", answersOf(request{took: th + 1}), backup(1, 2), roundErr, true},
		{"one fault: the engine's second try must succeed", slow, backup(5), roundErr, false},
		{"faults before the wait passed the threshold", slow, backup(1, 2), roundErr, false},
		{"one fault before, one after", slow, backup(2, 5), roundErr, false},
		{"no error reported", slow, backup(5, 6), nil, false},
		{"no wait at all", answersOf(request{took: ms}), backup(5, 6), roundErr, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.refused, failoverRefused(tc.answers, tc.backup, th, tc.err))
		})
	}
}

// TestInMetadata: faults outside the store's metadata (in the data area)
// do not defeat a role record.
func TestInMetadata(t *testing.T) {
	ops := []faults.Op{
		{Index: 1, Off: 0x8000, Len: 0x100},  // before the metadata
		{Index: 2, Off: 0x10000, Len: 0x100}, // its first page
		{Index: 3, Off: 0x1ff00, Len: 0x100}, // its last page
		{Index: 4, Off: 0x20000, Len: 0x100}, // the data area after it
		{Index: 5, Off: 0xf000, Len: 0x2000}, // an erase across its start
	}
	var got []int64
	for _, op := range inMetadata(ops, 0x10000, 0x10000) {
		got = append(got, op.Index)
	}
	require.Equal(t, []int64{2, 3, 5}, got)
}
