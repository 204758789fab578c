package daemon

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/internal/failhook"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// actionLog is a failover action that keeps the events it is given and
// answers with result (its Action name set).
type actionLog struct {
	mu     sync.Mutex
	events []failhook.Event
	result failhook.Result
	block  chan struct{} // if set, Run waits for it to close
}

func (a *actionLog) Name() string { return "test-action" }

func (a *actionLog) Run(ctx context.Context, ev failhook.Event) failhook.Result {
	a.mu.Lock()
	a.events = append(a.events, ev)
	a.mu.Unlock()
	if a.block != nil {
		<-a.block
	}
	r := a.result
	r.Action = a.Name()
	return r
}

func (a *actionLog) all() []failhook.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]failhook.Event(nil), a.events...)
}

// opsAfterOpen is where the rounds of these tests begin: Open formats
// two new 8 MiB chips in about 15,200 operations (seed 3), a round is
// about 8,500 more.
const opsAfterOpen = 16000

// openFaulted opens a daemon on two in-memory simulated chips with the
// fault schedule text and the failover action a; done receives each
// action's result.
func openFaulted(t *testing.T, schedule string, a failhook.Action, done chan failhook.Result) *Daemon {
	t.Helper()
	s, err := faults.ParseSchedule(schedule)
	require.NoError(t, err)
	var logs lineLog
	d, err := Open(context.Background(), Options{Primary: simSpec(t, "flash0", ""), Backup: simSpec(t, "flash1", ""), Seed: 3,
		Faults: &s, OnFailover: a, Logf: logs.logf, onFailoverDone: func(r failhook.Result) { done <- r }})
	require.NoError(t, err, "replay: schedule %s", schedule)
	t.Cleanup(func() { d.Close() })
	return d
}

// hookEvents returns the failover-hook events of the history.
func hookEvents(d *Daemon) []string {
	var out []string
	for _, ev := range d.logbook.allEvents() {
		if ev.Kind == FailoverHookEvent {
			out = append(out, ev.Detail)
		}
	}
	return out
}

// rounds runs n rounds, each after a change of the simulated CMC, and
// returns their outcomes.
func rounds(t *testing.T, d *Daemon, n int) []string {
	t.Helper()
	gen := cmcsim.New(3)
	var outcomes []string
	for range n {
		require.NoError(t, d.stepCMC(gen, time.Minute))
		rep, _ := d.SyncNow(context.Background())
		outcomes = append(outcomes, rep.Outcome)
	}
	return outcomes
}

// TestFailoverRunsTheActionOnce: a primary that stops answering (every
// read delayed beyond the 2 s threshold) fails the engine over once; the
// action runs exactly once, with the new active chip, its device, the
// generation and the engine's reason, and its result is in the history.
// Later rounds go on (on the backup) and do not run it again.
func TestFailoverRunsTheActionOnce(t *testing.T) {
	a := &actionLog{result: failhook.Result{ExitCode: 0, Output: "armed"}}
	done := make(chan failhook.Result, 4)
	d := openFaulted(t, "(on (and primary read (after 16000)) (delay 3s))", a, done)
	outcomes := rounds(t, d, 4)
	require.Equal(t, engine.OutcomeFailover, outcomes[0], "outcomes %v", outcomes)
	<-done
	d.hooks.Wait()
	require.Equal(t, int64(1), d.Status().Counters.Failovers)
	evs := a.all()
	require.Len(t, evs, 1, "one failover, one action: %+v", evs)
	ev := evs[0]
	require.Equal(t, 1, ev.ActiveChip)
	require.Equal(t, d.opts.Backup.String(), ev.ActiveDevice)
	require.Contains(t, ev.Reason, "exceeds threshold 2s: flash1 is now active")
	var failovers []engine.Event
	for _, e := range d.engine.Events() {
		if e.Kind == engine.EventFailover {
			failovers = append(failovers, e)
		}
	}
	require.Len(t, failovers, 1)
	require.Equal(t, failovers[0].Generation, ev.Generation, "the failed-over round's generation")
	require.Equal(t, failovers[0].Time, ev.Time)
	require.False(t, ev.Time.IsZero())
	hooks := hookEvents(d)
	require.Equal(t, []string{"test-action succeeded (exit 0, 0.000 s); output: armed"}, hooks)
	for _, o := range outcomes[1:] {
		require.NotEqual(t, engine.OutcomeFailover, o)
	}
}

// TestInterruptDoesNotRunTheAction: a primary read that is slow but
// within the threshold interrupts the round (purge and reinit), with no
// failover and no action.
func TestInterruptDoesNotRunTheAction(t *testing.T) {
	a := &actionLog{}
	done := make(chan failhook.Result, 4)
	d := openFaulted(t, "(on (and primary read (after 16000) (before 16100)) (fail timeout))", a, done)
	outcomes := rounds(t, d, 3)
	require.Contains(t, outcomes, engine.OutcomeInterrupted, "outcomes %v", outcomes)
	require.Zero(t, d.Status().Counters.Failovers)
	d.hooks.Wait()
	require.Empty(t, a.all())
	require.Empty(t, hookEvents(d))
}

// TestFailingOrHungActionIsReported: an action that fails is reported
// loudly in the history, not retried; one that hangs does not hold the
// rounds, which go on meanwhile.
func TestFailingOrHungActionIsReported(t *testing.T) {
	t.Run("fails", func(t *testing.T) {
		a := &actionLog{result: failhook.Result{ExitCode: 3, Err: errExit3, Output: "boom"}}
		done := make(chan failhook.Result, 4)
		d := openFaulted(t, "(on (and primary read (after 16000)) (delay 3s))", a, done)
		rounds(t, d, 3)
		r := <-done
		require.False(t, r.OK())
		d.hooks.Wait()
		require.Len(t, a.all(), 1, "not retried")
		require.Equal(t, []string{"FAILED: test-action: exit status 3 (exit 3, 0.000 s); output: boom"}, hookEvents(d))
	})
	t.Run("hangs", func(t *testing.T) {
		a := &actionLog{block: make(chan struct{})}
		done := make(chan failhook.Result, 4)
		d := openFaulted(t, "(on (and primary read (after 16000)) (delay 3s))", a, done)
		release := sync.OnceFunc(func() { close(a.block) })
		t.Cleanup(release)          // before Close, which waits for the action
		outcomes := rounds(t, d, 3) // while the action hangs
		require.Equal(t, engine.OutcomeFailover, outcomes[0])
		require.Equal(t, engine.OutcomeCommitted, outcomes[2], "rounds go on: %v", outcomes)
		require.Eventually(t, func() bool { return len(a.all()) == 1 }, 5*time.Second, time.Millisecond)
		require.Empty(t, hookEvents(d), "no result yet")
		release()
		<-done
		d.hooks.Wait()
		require.Len(t, hookEvents(d), 1)
	})
}

var errExit3 = errorString("exit status 3")

type errorString string

func (e errorString) Error() string { return string(e) }
