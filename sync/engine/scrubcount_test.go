package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TestScrubPassCounts: a scrub pass checks each committed chunk once,
// counting up by one per step to the total, and its event says how many
// it checked and how many were damaged.
func TestScrubPassCounts(t *testing.T) {
	for _, damage := range []bool{false, true} {
		t.Run(fmt.Sprintf("damage=%v", damage), func(t *testing.T) {
			p := syncedPairAfter(t, DefaultConfig(), 0)
			if damage {
				l := p.opts.Layout
				s, err := store.Open(p.chipB, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
				require.NoError(t, err)
				ts, ok := s.StateRef().Type(uint8(info.EventLog))
				require.True(t, ok)
				off := s.BlockOffset(ts.Chunks[2].Block)
				b := readRange(t, p.chipB, off, 64)
				i := 0
				for b[i] == 0 {
					i++
				}
				b[i] &= b[i] - 1 // clear one bit: a NOR program
				_, err = p.chipB.WriteAt(b[i:i+1], off+int64(i))
				require.NoError(t, err)
			}
			e := p.open(t)
			var checked []int
			total, found := 0, 0
			for steps := 0; ; steps++ {
				require.Less(t, steps, 10000)
				prog, err := e.ScrubStep(context.Background())
				require.NoError(t, err)
				if prog.PassDone {
					break
				}
				total = prog.Total
				if prog.Damage != nil && prog.Damage.Repair == RepairChecking {
					found++
				}
				if len(checked) == 0 || checked[len(checked)-1] != prog.Checked {
					checked = append(checked, prog.Checked)
				}
			}
			require.Positive(t, total)
			want := make([]int, total)
			for i := range want {
				want[i] = i + 1
			}
			require.Equal(t, want, checked)
			wantFound := 0
			if damage {
				wantFound = 1
			}
			require.Equal(t, wantFound, found)
			evs := e.Events()
			last := evs[len(evs)-1]
			require.Equal(t, EventScrub, last.Kind)
			require.Contains(t, last.Detail, fmt.Sprintf(": %d chunks checked, %d damaged; backup health ", total, wantFound))
		})
	}
}
