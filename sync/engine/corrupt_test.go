package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/info"
)

// corruptFanByte returns the chip offset of a byte of the primary's fan
// payload and the schedule rule that inverts it (all eight bits) at
// operation n: the first inversion corrupts the record, a second one
// repairs it.
func corruptFanByte(t *testing.T, p *pair) (flip func(n int64) string) {
	t.Helper()
	off, _ := p.region(t, p.chipA).Extent(info.Fan)
	b := off + info.RecordHeaderSize + 100
	return func(n int64) string { return fmt.Sprintf("(on (at %d) (flip primary %#x %#x 8))", n, b, b+1) }
}

// imageHeaderReads returns the indexes of the reads of the primary's image
// header in ops: the round's first probe, then one per wait-response probe.
func imageHeaderReads(ops []faults.Op) []int64 {
	var out []int64
	for _, op := range ops {
		if op.Role == faults.Primary && op.Kind == faults.Read && op.Off == 0 && op.Len == info.ImageHeaderSize {
			out = append(out, op.Index)
		}
	}
	return out
}

// TestPrimaryThatStaysCorruptFailsOver: a corrupt answer counts as no
// answer. A primary whose record stays corrupt is probed until the
// threshold passes and then failed over from, with the primary-corrupt
// alarm raised (event, counter, Status.NotSynced); one whose record reads
// intact again within the threshold is not. The boundary is exact: a
// primary that answers correctly at a wait of exactly the threshold does
// not fail over, one clock tick later it does.
func TestPrimaryThatStaysCorruptFailsOver(t *testing.T) {
	ctx := context.Background()
	t.Run("stays corrupt", func(t *testing.T) {
		cfg := DefaultConfig()
		p := committedPair(t, cfg)
		flip := corruptFanByte(t, p)
		e, _ := p.openWithFaults(t, p.opts, "%s", flip(0))
		rep, err := e.Round(ctx)
		require.NoError(t, err)
		require.Equal(t, OutcomeFailover, rep.Outcome, "%+v", rep)
		require.Contains(t, rep.Anomaly, "crc")
		require.Greater(t, rep.WaitResponse, cfg.Threshold)
		require.Contains(t, eventKinds(e), EventPrimaryCorrupt)
		st := e.Status()
		require.Equal(t, int64(1), st.Counters.PrimaryCorrupt)
		require.Equal(t, 1, st.ActiveChip)
		require.Contains(t, st.NotSynced, "failover: primary anomaly")
		require.Contains(t, st.NotSynced, "crc")
		require.Equal(t, rep.Started, st.NotSyncedSince)
		// The next round syncs from chip B and clears the alarm's status.
		rep, err = e.Round(ctx)
		require.NoError(t, err)
		require.Contains(t, []string{OutcomeCommitted, OutcomeNothingChanged}, rep.Outcome)
		require.Empty(t, e.Status().NotSynced)
		require.True(t, e.Status().NotSyncedSince.IsZero())
	})

	// The primary answers correctly again at the third wait-response
	// probe: the wait it measured then is the boundary.
	const answersAt = 3
	run := func(t *testing.T, threshold time.Duration) RoundReport {
		cfg := DefaultConfig()
		cfg.Threshold = threshold
		p := committedPair(t, cfg)
		flip := corruptFanByte(t, p)
		probes := imageHeaderReads(p.traceRound(t, p.opts, "%s", flip(0)))
		require.Greater(t, len(probes), answersAt)
		e, _ := p.openWithFaults(t, p.opts, "%s %s", flip(0), flip(probes[answersAt]))
		rep, err := e.Round(ctx)
		require.NoError(t, err)
		require.Contains(t, rep.Anomaly, "crc")
		return rep
	}
	boundary := run(t, DefaultConfig().Threshold).WaitResponse
	require.Greater(t, boundary, (answersAt-1)*5*time.Millisecond, "probed until it answered")
	requireThresholdEdge(t, boundary, run)
}
