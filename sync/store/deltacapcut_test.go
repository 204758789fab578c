package store

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOverTheCapCutsOnlyTheNewDeltasOver: a round that plans more new
// delta records than the record cap allows, with no committed chain to
// fold, writes whole only as many of its changed chunks as it must: the
// cap's worth stay deltas and the rest are written whole.
func TestOverTheCapCutsOnlyTheNewDeltasOver(t *testing.T) {
	const changed = 6
	for _, limit := range []int{1, 3, 5, changed, changed + 2} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			f, s := newStore(t)
			ps := payloads{1: randomBytes(1, 100_000)}
			runRound(t, s, 1, ps)
			require.Zero(t, deltaRecords(s), "no committed chain to fold")

			ps[1] = bytes.Clone(ps[1])
			for i := range changed {
				ps[1][i*4096+100] ^= 0x5A
			}
			s.recordCap = limit
			full, dblocks, _ := deltaRound(t, s, 2, ps)
			kept := min(limit, changed)
			require.Equal(t, kept, deltaRecords(s), "delta records committed")
			require.Equal(t, changed-kept, full, "chunks written whole")
			require.Equal(t, 1, dblocks)
			requireReopens(t, f, s, ps)
		})
	}
}

// deltaRecords counts the delta records of s's committed chains.
func deltaRecords(s *Store) int {
	n := 0
	for _, ts := range s.StateRef().Types {
		for _, c := range ts.Chunks {
			n += len(c.Deltas)
		}
	}
	return n
}
