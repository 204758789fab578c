package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/info"
)

// TestCountersOfAnAnomaly: the counters and the role after one round cut
// by an anomaly, exactly: a failover raises the role's epoch by one and
// counts one interrupt, one failover and one purge; a corrupt answer also
// counts one primary-corrupt alarm; an anomaly within the threshold counts
// an interrupt and a purge and keeps the role.
func TestCountersOfAnAnomaly(t *testing.T) {
	for _, tc := range []struct {
		name     string
		schedule func(p *pair) string
		want     Counters
		epoch    uint64 // by how much the role's epoch grows: 1 on a failover
	}{
		{"answers again within the threshold", func(p *pair) string {
			n := midWrite(t, p.traceRound(t, p.opts, "none"))
			return fmt.Sprintf("(on (and primary read (after %d) (before %d)) (delay 100ms)) (on (and primary read (after %d) (before %d)) (fail timeout))", n, n+3, n, n+3)
		}, Counters{Rounds: 1, Interrupts: 1, Purges: 1, Errors: 1}, 0},
		{"stops answering", func(p *pair) string {
			n := midWrite(t, p.traceRound(t, p.opts, "none"))
			return fmt.Sprintf("(on (and primary read (after %d)) (fail timeout))", n)
		}, Counters{Rounds: 1, Interrupts: 1, Failovers: 1, Purges: 1, Errors: 1}, 1},
		{"corrupt record", func(p *pair) string {
			off, _ := p.region(t, p.chipA).Extent(info.Fan)
			corrupt := off + info.RecordHeaderSize + 100
			return fmt.Sprintf("(on (at 0) (flip primary %#x %#x 1))", corrupt, corrupt+1)
		}, Counters{Rounds: 1, Interrupts: 1, Failovers: 1, PrimaryCorrupt: 1, TableFallbacks: 1, Errors: 1}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := committedPair(t, DefaultConfig())
			e, _ := p.openWithFaults(t, p.opts, "%s", tc.schedule(p))
			before := e.Status()
			require.Equal(t, Counters{}, before.Counters)
			rep, err := e.Round(context.Background())
			require.NoError(t, err)
			require.Equal(t, tc.epoch == 1, rep.Outcome == OutcomeFailover, "outcome %v", rep.Outcome)
			st := e.Status()
			got := st.Counters
			require.Equal(t, tc.want, got)
			require.Equal(t, before.RoleEpoch+tc.epoch, st.RoleEpoch)
			require.Equal(t, int(tc.epoch), st.ActiveChip)
			require.Equal(t, 1-int(tc.epoch), st.BackupChip)
		})
	}
}
