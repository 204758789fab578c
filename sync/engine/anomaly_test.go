package engine

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// committedPair returns a pair after one committed round (with cfg) and
// an hour of CMC activity: the next round has changed chunks to write.
func committedPair(t *testing.T, cfg Config) *pair {
	t.Helper()
	return syncedPairAfter(t, cfg, time.Hour)
}

func eventKinds(e *Engine) []EventKind {
	var ks []EventKind
	for _, ev := range e.Events() {
		ks = append(ks, ev.Kind)
	}
	return ks
}

func TestAnomalyBelowThresholdPurgesAndRetries(t *testing.T) {
	for _, retryAtOnce := range []bool{false, true} {
		t.Run(fmt.Sprintf("retry-at-once=%v", retryAtOnce), func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.RetryAtOnce = retryAtOnce
			p := committedPair(t, cfg)
			n := midWrite(t, p.traceRound(t, p.opts, "none"))
			// From the middle of the writes, the primary's next three
			// reads time out after 100 ms each: it answers again after
			// some 300 ms, within the threshold.
			e, _ := p.openWithFaults(t, p.opts, "(on (and primary read (after %d) (before %d)) (delay 100ms)) (on (and primary read (after %d) (before %d)) (fail timeout))", n, n+3, n, n+3)
			rep, err := e.Round(context.Background())
			require.NoError(t, err)
			require.Equal(t, OutcomeInterrupted, rep.Outcome, "%+v", rep)
			require.Greater(t, rep.PurgedBlocks, 0, "the anomaly came while writing")
			require.GreaterOrEqual(t, rep.WaitResponse, 300*time.Millisecond)
			require.LessOrEqual(t, rep.WaitResponse, cfg.Threshold)
			st := e.Status()
			require.Equal(t, 0, st.ActiveChip)
			require.Equal(t, uint64(1), st.Generation)
			now := p.clock.Now()
			if retryAtOnce {
				require.False(t, st.NextSync.After(now))
			} else {
				require.Equal(t, cfg.Interval, st.NextSync.Sub(now))
			}
			require.Contains(t, eventKinds(e), EventPurgeVerified)
			require.Contains(t, eventKinds(e), EventReinit)
			require.NotContains(t, eventKinds(e), EventFailover)
			// The purged blocks read erased; nothing interrupted is left.
			s, err := store.Open(p.chipB, p.opts.Layout.StoreOff, p.opts.Layout.StoreSize, store.Options{ReadOnly: true})
			require.NoError(t, err)
			require.Nil(t, s.Interrupted())
			if lp := s.LastPurged(); lp != nil {
				for _, b := range lp.Blocks {
					require.True(t, allErased(readRange(t, p.chipB, s.BlockOffset(b), 4096)))
				}
			}
			// Retry succeeds once the primary is healthy.
			rep, err = e.Round(context.Background())
			require.NoError(t, err)
			require.Equal(t, OutcomeCommitted, rep.Outcome)
			requireSynced(t, p, p.chipA, p.chipB, info.All())
		})
	}
}

func TestAnomalyAboveThresholdFailsOver(t *testing.T) {
	cfg := DefaultConfig()
	p := committedPair(t, cfg)
	n := midWrite(t, p.traceRound(t, p.opts, "none"))
	// The primary stops answering in the middle of the writes, for ever.
	e, _ := p.openWithFaults(t, p.opts, "(on (and primary read (after %d)) (fail timeout))", n)
	gen1 := e.Status().Generation
	rep, err := e.Round(context.Background())
	require.NoError(t, err)
	require.Equal(t, OutcomeFailover, rep.Outcome)
	require.Greater(t, rep.PurgedBlocks, 0, "the anomaly came while writing")
	require.Greater(t, rep.WaitResponse, cfg.Threshold)
	st := e.Status()
	require.Equal(t, 1, st.ActiveChip)
	require.Equal(t, "backup", st.Active)
	require.Equal(t, gen1, st.Generation)
	require.Contains(t, eventKinds(e), EventFailover)
	require.Same(t, p.chipB, e.Primary().(*faults.Flash).Unwrap())

	// The role survives a restart; chip B's region holds the synced info.
	e2, err := Open(context.Background(), p.chipA, p.chipB, p.opts)
	require.NoError(t, err)
	require.Equal(t, 1, e2.Status().ActiveChip)
	s, err := store.Open(p.chipB, p.opts.Layout.StoreOff, p.opts.Layout.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	rb := p.region(t, p.chipB)
	for _, ty := range info.All() {
		want, err := s.ReadPayload(uint8(ty))
		require.NoError(t, err)
		rec, err := rb.Read(ty)
		require.NoError(t, err)
		require.Equal(t, want, rec.Payload, "%v restored", ty)
	}
	// Later rounds sync from chip B to chip A.
	require.NoError(t, p.cmc.Step(rb, time.Hour))
	rep, err = e2.Round(context.Background())
	require.NoError(t, err)
	require.Equal(t, OutcomeCommitted, rep.Outcome)
	require.Greater(t, rep.Generation, gen1)
	requireSynced(t, p, p.chipB, p.chipA, info.All())
	e3, err := Open(context.Background(), p.chipA, p.chipB, p.opts)
	require.NoError(t, err)
	require.Equal(t, 1, e3.Status().ActiveChip)
	require.Equal(t, rep.Generation, e3.Status().Generation)
}

func TestSlowPrimary(t *testing.T) {
	cfg := DefaultConfig()
	for _, tc := range []struct {
		latency time.Duration
		want    string
	}{
		{cfg.Threshold / 4, OutcomeCommitted},
		{cfg.Threshold + time.Millisecond, OutcomeFailover},
	} {
		t.Run(tc.latency.String(), func(t *testing.T) {
			p := committedPair(t, cfg)
			n := midWrite(t, p.traceRound(t, p.opts, "none"))
			// From the middle of the writes, every read of the primary
			// takes the latency longer.
			e, _ := p.openWithFaults(t, p.opts, "(on (and primary read (after %d)) (delay %v))", n, tc.latency)
			rep, err := e.Round(context.Background())
			require.NoError(t, err)
			require.Equal(t, tc.want, rep.Outcome)
		})
	}
}

func TestThresholdIgnoredMutantFailsOverTooSoon(t *testing.T) {
	p := committedPair(t, DefaultConfig())
	opts := p.opts
	opts.Mutant = ThresholdIgnored
	n := midWrite(t, p.traceRound(t, opts, "none"))
	// Three reads of the primary fail, then it answers at once.
	e, _ := p.openWithFaults(t, opts, "(on (and primary read (after %d) (before %d)) (fail timeout))", n, n+3)
	rep, err := e.Round(context.Background())
	require.NoError(t, err)
	require.Less(t, rep.WaitResponse, DefaultConfig().Threshold)
	require.Equal(t, OutcomeFailover, rep.Outcome, "the mutant fails over below the threshold")
}

func TestPrimaryWrittenMutantChangesThePrimary(t *testing.T) {
	for _, m := range []Mutant{None, PrimaryWritten} {
		p := committedPair(t, DefaultConfig())
		opts := p.opts
		opts.Mutant = m
		e, err := Open(context.Background(), p.chipA, p.chipB, opts)
		require.NoError(t, err)
		l := p.opts.Layout
		before := readRange(t, p.chipA, 0, l.InfoOff+l.InfoSize)
		_, err = e.Round(context.Background())
		require.NoError(t, err)
		after := readRange(t, p.chipA, 0, l.InfoOff+l.InfoSize)
		require.Equal(t, m == PrimaryWritten, !bytes.Equal(before, after), "mutant %v", m)
	}
}

func TestCorruptPrimaryRecordIsNeverSynced(t *testing.T) {
	for _, m := range []Mutant{None, NoCRCCheck} {
		p := committedPair(t, DefaultConfig())
		opts := p.opts
		opts.Mutant = m
		off, _ := p.region(t, p.chipA).Extent(info.Fan)
		corrupt := off + info.RecordHeaderSize + 100 // a byte of the fan record's payload
		// Before the round's first operation, a bit of the primary's fan
		// payload flips.
		e, _ := p.openWithFaults(t, opts, "(on (at 0) (flip primary %#x %#x 1))", corrupt, corrupt+1)
		rep, err := e.Round(context.Background())
		require.NoError(t, err)
		if m == None {
			// The record stays corrupt: no correct answer within the
			// threshold.
			require.Equal(t, OutcomeFailover, rep.Outcome)
			require.Contains(t, rep.Anomaly, "crc")
		} else {
			require.Equal(t, OutcomeCommitted, rep.Outcome, "the mutant syncs the corrupt record")
		}
	}
}

// TestWaitResponseTimedFromTheFailingRequest: requests the primary answered
// slowly but within the threshold, before the one that failed, are not
// part of the wait-response time: a probe whose reads add up to more than
// the threshold and then fail one read is an interruption, not a failover.
func TestWaitResponseTimedFromTheFailingRequest(t *testing.T) {
	cfg := DefaultConfig()
	p := committedPair(t, cfg)
	reads := primaryReadsAfter(t, p.traceRound(t, p.opts, "none"), 3) // in the round's writes
	require.Equal(t, reads[0]+5, reads[5], "six reads of one probe, with no write between them")
	// Five reads of a probe each take a third of the threshold, then the
	// sixth fails.
	e, _ := p.openWithFaults(t, p.opts, "(on (and primary read (after %d) (before %d)) (delay %v)) (on (at %d) (fail media))",
		reads[0], reads[5], cfg.Threshold/3, reads[5])
	rep, err := e.Round(context.Background())
	require.NoError(t, err)
	require.Equal(t, OutcomeInterrupted, rep.Outcome, "anomaly %q, wait %v", rep.Anomaly, rep.WaitResponse)
	require.Less(t, rep.WaitResponse, cfg.Threshold)
	require.Equal(t, 0, e.Status().ActiveChip)
}

// TestFailoverNoRestoreMutantLeavesTheRegion: after a failover the real
// engine restores the new active chip's information region from the last
// committed generation; the failover-no-restore mutant leaves it as it was
// and records the restore as done, so a restart does not finish it either.
func TestFailoverNoRestoreMutantLeavesTheRegion(t *testing.T) {
	for _, m := range []Mutant{None, FailoverNoRestore} {
		t.Run(m.String(), func(t *testing.T) {
			p := committedPair(t, DefaultConfig())
			opts := p.opts
			opts.Mutant = m
			n := midWrite(t, p.traceRound(t, opts, "none"))
			e, _ := p.openWithFaults(t, opts, "(on (and primary read (after %d)) (fail timeout))", n)
			rep, err := e.Round(context.Background())
			require.NoError(t, err)
			require.Equal(t, OutcomeFailover, rep.Outcome)
			_, err = Open(context.Background(), p.chipA, p.chipB, opts) // a restart
			require.NoError(t, err)
			s, err := store.Open(p.chipB, opts.Layout.StoreOff, opts.Layout.StoreSize, store.Options{ReadOnly: true})
			require.NoError(t, err)
			restored := true
			for _, ty := range info.All() {
				want, err := s.ReadPayload(uint8(ty))
				require.NoError(t, err)
				rec, err := p.region(t, p.chipB).Read(ty)
				require.NoError(t, err)
				restored = restored && bytes.Equal(want, rec.Payload)
			}
			require.Equal(t, m == None, restored, "chip B's region holds the synced information")
		})
	}
}
