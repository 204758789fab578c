package daemon

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/internal/failhook"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// TestDatesFollowTheWallClock: on simulated chips with a delay fault (the
// README's failover demo: every primary read 3 s late), the chips' flash
// time and the delays run the engine's clock seconds ahead of the wall
// clock; every date the daemon shows — the engine's events, the history's
// events and rounds, the last sync, the last scrub — is still a reading of
// the wall clock taken while the test ran, and the next round is due one
// interval after now by the wall clock, not after the chips' virtual time.
func TestDatesFollowTheWallClock(t *testing.T) {
	before := time.Now()
	a := &actionLog{result: failhook.Result{ExitCode: 0}}
	done := make(chan failhook.Result, 4)
	d := openFaulted(t, "(on (and primary read (after 16000)) (delay 3s))", a, done)
	gen := cmcsim.New(3)
	var reps []engine.RoundReport
	for range 2 {
		require.NoError(t, d.stepCMC(gen, time.Minute))
		rep, _ := d.SyncNow(context.Background())
		reps = append(reps, rep)
	}
	require.Equal(t, engine.OutcomeFailover, reps[0].Outcome)
	<-done
	d.hooks.Wait()
	require.NoError(t, d.Scrub(context.Background()))
	after := time.Now()
	lead := d.clock.Now().Sub(after)
	require.Greater(t, lead, 3*time.Second, "the engine's clock runs ahead of the wall clock (the premise)")

	within := func(what string, at time.Time) {
		t.Helper()
		require.False(t, at.Before(before) || at.After(after), "%s dated %s, the test ran %s to %s (the engine's clock is %v ahead)",
			what, at.Format(time.RFC3339Nano), before.Format(time.RFC3339Nano), after.Format(time.RFC3339Nano), lead)
	}
	evs := d.engine.Events()
	require.NotEmpty(t, evs)
	for _, ev := range evs {
		within("engine event "+string(ev.Kind), ev.Time)
	}
	for _, ev := range d.logbook.allEvents() {
		within("history event "+ev.Kind, ev.Time)
	}
	for i, rep := range reps {
		within(fmt.Sprintf("round %d", i), webRound(rep, nil).Time)
	}
	st := d.Status()
	within("last sync", st.LastSync)
	within("last scrub", st.LastScrub)
	for _, ev := range a.all() {
		within("failover hook event", ev.Time)
	}
	interval := d.engine.Config().Interval
	require.False(t, st.NextSync.After(after.Add(interval)), "next sync %s, more than the %v interval after the wall clock's %s",
		st.NextSync.Format(time.RFC3339Nano), interval, after.Format(time.RFC3339Nano))
	require.True(t, st.NextSync.After(before), "next sync %s", st.NextSync.Format(time.RFC3339Nano))
}
