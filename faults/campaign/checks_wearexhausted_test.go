package campaign

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
)

// TestCheckWearExhaustedErases: a phase whose faults failed every one of
// the method's EraseTries erases of one block (a block that silently does
// not erase) leaves the purge unfinished, so the next start erases every
// block of the round once more; fewer failed erases, or failed erases
// spread over several blocks, allow nothing more than their own blocks.
// The check still fails a block erased more than the bound allows.
func TestCheckWearExhaustedErases(t *testing.T) {
	const eraseSize = 4096
	erase := func(off int64) faults.Op {
		return faults.Op{Role: faults.Backup, Kind: faults.Erase, Off: off, Len: eraseSize}
	}
	times := func(op faults.Op, n int) []faults.Op {
		var ops []faults.Op
		for range n {
			ops = append(ops, op)
		}
		return ops
	}
	const a, b, c = 0, 3 * eraseSize, 5 * eraseSize
	for _, tc := range []struct {
		name      string
		faulted   []faults.Op // of one phase
		exhausted int
		cuts      int
		writes    []faults.Op
		ok        bool
	}{
		{"three failed erases of b: a erased three times", times(erase(b), 3), 1, 0, times(erase(a), 3), true},
		{"three failed erases of b: a erased four times", times(erase(b), 3), 1, 0, times(erase(a), 4), false},
		{"three failed erases of b and a cut: a erased four times", times(erase(b), 3), 1, 1, times(erase(a), 4), true},
		{"three failed erases of b and a cut: a erased five times", times(erase(b), 3), 1, 1, times(erase(a), 5), false},
		{"two failed erases of b: a erased three times", times(erase(b), 2), 0, 0, times(erase(a), 3), false},
		{"failed erases of b, c, b: a erased three times", []faults.Op{erase(b), erase(c), erase(b)}, 0, 0, times(erase(a), 3), false},
		{"a failed program three times: a erased three times", times(faults.Op{Role: faults.Backup, Kind: faults.Program, Off: b, Len: 256}, 3), 0, 0,
			times(erase(a), 3), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.exhausted, exhaustedErases(tc.faulted, eraseSize))
			v := verdictFor(t, BoundedWear, func(vs verdicts) {
				checkWear(vs, tc.writes, tc.faulted, tc.cuts, exhaustedErases(tc.faulted, eraseSize), eraseSize, "round and recovery")
			})
			require.Equal(t, tc.ok, v.OK, v.Saw)
		})
	}
}
