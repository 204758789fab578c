package campaign

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// TestFailoverAtTheThreshold runs the real engine with a probe of the
// primary, during the round's writes, delayed so that the request takes
// exactly the threshold, one clock tick (1 ns) less, and one more: only
// the last fails over, and the oracle agrees each time.
func TestFailoverAtTheThreshold(t *testing.T) {
	ctx := context.Background()
	b, err := loadBench(ctx, "small", 1, engine.None)
	require.NoError(t, err)
	probe := -1
	for i := b.split + 1; i < len(b.steps); i++ {
		if op := b.steps[i].op; op.Role == faults.Primary && op.Kind == faults.Read && op.Off == b.layout.ImageOff && b.writesBefore[i] > 0 {
			probe = i
			break
		}
	}
	require.GreaterOrEqual(t, probe, 0, "a probe during the writes")
	took := b.answers[probe].Duration()
	require.Positive(t, took)
	for _, tick := range []time.Duration{-1, 0, 1} {
		t.Run(fmt.Sprintf("threshold%+dns", tick), func(t *testing.T) {
			delay := b.threshold() - took + tick
			c := Case{Scenario: "small", Seed: 1, Mutant: engine.None,
				Round: faults.Schedule{Rules: []faults.Rule{{When: faults.At{Index: int64(probe)}, Do: faults.Delay{Duration: delay}}}}}
			vs, err := Replay(ctx, c)
			require.NoError(t, err)
			for _, v := range vs {
				require.True(t, v.OK, "%s: %s", c, v)
			}
			f := verdictOf(vs, Failover)
			if tick > 0 {
				require.Contains(t, f.Saw, "and made", c.String())
				require.Contains(t, f.Saw, (b.threshold() + tick).String())
			} else {
				require.True(t, strings.HasPrefix(f.Saw, "no failover due"), "%s: %s", c, f.Saw)
			}
		})
	}
}
