package engine

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// sickFlash is a primary chip that misbehaves from its failAt-th read on:
// reads fail (for failFor of clock time, or for ever if 0), or take extra
// latency.
type sickFlash struct {
	*sim.Flash
	clock   *sim.Clock
	reads   int
	failAt  int           // 0: never
	failFor time.Duration // 0: for ever
	latency time.Duration // added to every read from failAt on, instead of failing
	since   time.Time
	// after, if set, must also hold for the sickness to start (e.g. the
	// backup has been written to).
	after func() bool
}

func (s *sickFlash) ReadAt(b []byte, off int64) (int, error) {
	s.reads++
	if s.failAt > 0 && s.reads >= s.failAt && (s.after == nil || s.after()) {
		if s.since.IsZero() {
			s.since = s.clock.Now()
		}
		if s.latency > 0 {
			s.clock.Advance(s.latency)
			return s.Flash.ReadAt(b, off)
		}
		if s.failFor == 0 || s.clock.Now().Sub(s.since) < s.failFor {
			return 0, &hal.OpError{Op: "read", Dev: s.Geometry().Name, Off: off, Len: int64(len(b)), Err: fmt.Errorf("%w: %w", hal.ErrInjected, hal.ErrTimeout)}
		}
	}
	return s.Flash.ReadAt(b, off)
}

// ReadAtPieces goes through ReadAt (the promoted sim method would bypass
// the sickness).
func (s *sickFlash) ReadAtPieces(b []byte, off int64, piece func(int)) (int, error) {
	n, err := s.ReadAt(b, off)
	if err == nil {
		piece(len(b))
	}
	return n, err
}

// anomalyPair returns a pair after one committed round and a CMC step, and
// an engine whose primary is sick.
func anomalyPair(t *testing.T, cfg Config, m Mutant, sick *sickFlash) (*pair, *Engine) {
	t.Helper()
	p := newPair(t, 8<<20, 1<<20, cfg)
	e := p.open(t)
	_, err := e.Round(context.Background())
	require.NoError(t, err)
	require.NoError(t, p.gen.Step(p.region(t, p.a), time.Hour))
	sick.Flash, sick.clock = p.a, p.clock
	if sick.failAt == 1 { // sick once the round writes its chunks
		base := p.b.Stats().Programs
		sick.after = func() bool { return p.b.Stats().Programs >= base+3 }
	}
	opts := p.opts
	opts.Mutant = m
	e, err = Open(context.Background(), sick, p.b, opts)
	require.NoError(t, err)
	sick.reads = 0
	return p, e
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
			sick := &sickFlash{failAt: 1, failFor: 300 * time.Millisecond}
			p, e := anomalyPair(t, cfg, None, sick)
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
			s, err := store.Open(p.b, p.opts.Layout.StoreOff, p.opts.Layout.StoreSize, store.Options{ReadOnly: true})
			require.NoError(t, err)
			require.Nil(t, s.Interrupted())
			if lp := s.LastPurged(); lp != nil {
				for _, b := range lp.Blocks {
					require.True(t, allErased(readRange(t, p.b, s.BlockOffset(b), 4096)))
				}
			}
			// Retry succeeds once the primary is healthy.
			rep, err = e.Round(context.Background())
			require.NoError(t, err)
			require.Equal(t, OutcomeCommitted, rep.Outcome)
			requireSynced(t, p, p.a, p.b, info.All())
		})
	}
}

func TestAnomalyAboveThresholdFailsOver(t *testing.T) {
	cfg := DefaultConfig()
	sick := &sickFlash{failAt: 1} // dead for ever, once the round writes
	p, e := anomalyPair(t, cfg, None, sick)
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
	require.Same(t, p.b, e.Primary())

	// The role survives a restart; chip B's region holds the synced info.
	e2, err := Open(context.Background(), p.a, p.b, p.opts)
	require.NoError(t, err)
	require.Equal(t, 1, e2.Status().ActiveChip)
	s, err := store.Open(p.b, p.opts.Layout.StoreOff, p.opts.Layout.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	rb := p.region(t, p.b)
	for _, ty := range info.All() {
		want, err := s.ReadPayload(uint8(ty))
		require.NoError(t, err)
		rec, err := rb.Read(ty)
		require.NoError(t, err)
		require.Equal(t, want, rec.Payload, "%v restored", ty)
	}
	// Later rounds sync from chip B to chip A.
	require.NoError(t, p.gen.Step(rb, time.Hour))
	rep, err = e2.Round(context.Background())
	require.NoError(t, err)
	require.Equal(t, OutcomeCommitted, rep.Outcome)
	require.Greater(t, rep.Generation, gen1)
	requireSynced(t, p, p.b, p.a, info.All())
	e3, err := Open(context.Background(), p.a, p.b, p.opts)
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
			sick := &sickFlash{failAt: 1, latency: tc.latency}
			_, e := anomalyPair(t, cfg, None, sick)
			rep, err := e.Round(context.Background())
			require.NoError(t, err)
			require.Equal(t, tc.want, rep.Outcome)
		})
	}
}

func TestThresholdIgnoredMutantFailsOverTooSoon(t *testing.T) {
	sick := &sickFlash{failAt: 1, failFor: 50 * time.Millisecond}
	_, e := anomalyPair(t, DefaultConfig(), ThresholdIgnored, sick)
	rep, err := e.Round(context.Background())
	require.NoError(t, err)
	require.Less(t, rep.WaitResponse, DefaultConfig().Threshold)
	require.Equal(t, OutcomeFailover, rep.Outcome, "the mutant fails over below the threshold")
}

func TestPrimaryWrittenMutantChangesThePrimary(t *testing.T) {
	for _, m := range []Mutant{None, PrimaryWritten} {
		sick := &sickFlash{}
		p, e := anomalyPair(t, DefaultConfig(), m, sick)
		l := p.opts.Layout
		before := readRange(t, p.a, 0, l.InfoOff+l.InfoSize)
		_, err := e.Round(context.Background())
		require.NoError(t, err)
		after := readRange(t, p.a, 0, l.InfoOff+l.InfoSize)
		require.Equal(t, m == PrimaryWritten, !bytes.Equal(before, after), "mutant %v", m)
	}
}

func TestCorruptPrimaryRecordIsNeverSynced(t *testing.T) {
	for _, m := range []Mutant{None, NoCRCCheck} {
		sick := &sickFlash{}
		p, e := anomalyPair(t, DefaultConfig(), m, sick)
		r := p.region(t, p.a)
		off, _ := r.Extent(info.Fan)
		b := readRange(t, p.a, off+info.RecordHeaderSize+100, 1)
		b[0] &^= 0x10 | ^b[0] // clear a set bit (NOR programming)
		if b[0] == readRange(t, p.a, off+info.RecordHeaderSize+100, 1)[0] {
			b[0] = 0
		}
		_, err := p.a.WriteAt(b, off+info.RecordHeaderSize+100)
		require.NoError(t, err)
		rep, err := e.Round(context.Background())
		require.NoError(t, err)
		if m == None {
			require.Equal(t, OutcomeInterrupted, rep.Outcome)
			require.Contains(t, rep.Anomaly, "crc")
		} else {
			require.Equal(t, OutcomeCommitted, rep.Outcome, "the mutant syncs the corrupt record")
		}
	}
}

// slowThenFailFlash is a primary that, once armed, answers slow reads
// (each below the threshold) and then fails one read.
type slowThenFailFlash struct {
	*sim.Flash
	clock *sim.Clock
	armed func() bool
	slow  int           // reads to slow down once armed
	delay time.Duration // added to each of them
	n     int
}

func (s *slowThenFailFlash) ReadAt(b []byte, off int64) (int, error) {
	if s.armed != nil && s.armed() {
		s.n++
		switch {
		case s.n <= s.slow:
			s.clock.Advance(s.delay)
		case s.n == s.slow+1:
			return 0, &hal.OpError{Op: "read", Dev: s.Geometry().Name, Off: off, Len: int64(len(b)), Err: fmt.Errorf("%w: %w", hal.ErrInjected, hal.ErrMedia)}
		}
	}
	return s.Flash.ReadAt(b, off)
}

func (s *slowThenFailFlash) ReadAtPieces(b []byte, off int64, piece func(int)) (int, error) {
	n, err := s.ReadAt(b, off)
	if err == nil {
		piece(len(b))
	}
	return n, err
}

// TestWaitResponseTimedFromTheFailingRequest: requests the primary answered
// slowly but within the threshold, before the one that failed, are not
// part of the wait-response time: a probe whose reads add up to more than
// the threshold and then fail one read is an interruption, not a failover.
func TestWaitResponseTimedFromTheFailingRequest(t *testing.T) {
	cfg := DefaultConfig()
	p := newPair(t, 8<<20, 1<<20, cfg)
	e := p.open(t)
	_, err := e.Round(context.Background())
	require.NoError(t, err)
	require.NoError(t, p.gen.Step(p.region(t, p.a), time.Hour))
	base := p.b.Stats().Programs
	sick := &slowThenFailFlash{Flash: p.a, clock: p.clock, slow: 5, delay: cfg.Threshold / 3,
		armed: func() bool { return p.b.Stats().Programs >= base+3 }} // in the round's writes
	e, err = Open(context.Background(), sick, p.b, p.opts)
	require.NoError(t, err)
	rep, err := e.Round(context.Background())
	require.NoError(t, err)
	require.Equal(t, OutcomeInterrupted, rep.Outcome, "anomaly %q, wait %v", rep.Anomaly, rep.WaitResponse)
	require.Less(t, rep.WaitResponse, cfg.Threshold)
	require.Equal(t, 0, e.Status().ActiveChip)
}
