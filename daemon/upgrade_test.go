package daemon

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/web"
)

func TestNextVersion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.0.0", "1.1.0"},
		{"1.9.3", "1.10.0"},
		{"2.x.0", "2.x.0+u"},
		{"1.0", "1.0+u"},
		{"", "+u"},
		{"release-2026-11-26-b", "lease-2026-11-26-b+u"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, nextVersion(tt.in), tt.in)
	}
}

func FuzzNextVersion(f *testing.F) {
	f.Add("1.0.0")
	f.Add("1.2147483647.0")
	f.Add("v2")
	f.Fuzz(func(t *testing.T, v string) {
		next := nextVersion(v)
		require.NotEqual(t, v, next)
		parts := strings.Split(v, ".")
		if minor, err := strconv.Atoi(safeIndex(parts, 1)); len(parts) == 3 && err == nil {
			require.Equal(t, parts[0]+"."+strconv.Itoa(minor+1)+".0", next)
			return
		}
		require.True(t, strings.HasSuffix(next, "+u"), next)
		require.LessOrEqual(t, len(next), maxVersionLen)
	})
}

func safeIndex(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}

// TestSimulateUpgrade: a simulated upgrade writes the next version; the
// next round waits for the user's choice, which commits it.
func TestSimulateUpgrade(t *testing.T) {
	var log lineLog
	d := openSim(t, 1)
	d.opts.Logf = log.logf
	ctx := context.Background()
	_, err := d.SyncNow(ctx)
	require.NoError(t, err)

	require.NoError(t, d.SimulateUpgrade())
	require.Equal(t, 1, log.count("the active image is now version 1.1.0"))
	rep, err := d.SyncNow(ctx)
	require.ErrorIs(t, err, engine.ErrUpgradePending)
	require.Equal(t, engine.OutcomeUpgradePending, rep.Outcome)
	st := d.Status()
	require.True(t, st.UpgradePending)
	require.Equal(t, "1.1.0", st.PrimaryVersion)

	_, err = d.Upgrade(ctx, engine.KeepUpgraded)
	require.NoError(t, err)
	st = d.Status()
	require.False(t, st.UpgradePending)
	require.Equal(t, "1.1.0", st.CommittedVersion)

	require.NoError(t, d.SimulateUpgrade())
	require.Equal(t, 1, log.count("the active image is now version 1.2.0"))
}

func TestSimulateUpgradeOnRealChips(t *testing.T) {
	d := &Daemon{} // real chips: nothing is touched
	require.ErrorIs(t, d.SimulateUpgrade(), ErrNotSimulated)
}

// TestUpgradeChoiceOnce: two upgrade choices sent at once (two tabs, a
// double click) while a round holds the engine: the first applies, the
// other finds no upgrade pending (409) and runs nothing. The check of the
// pending upgrade and the choice's round are one step; before, both
// passed the check while the round ran, and the second choice ran too:
// a restore-defaults with no upgrade pending reset the chosen types.
func TestUpgradeChoiceOnce(t *testing.T) {
	d := openSim(t, 1)
	ctx := context.Background()
	_, err := d.SyncNow(ctx)
	require.NoError(t, err)
	require.NoError(t, d.SimulateUpgrade())
	_, err = d.SyncNow(ctx)
	require.ErrorIs(t, err, engine.ErrUpgradePending)
	b := d.Backend()

	held, release := make(chan struct{}), make(chan struct{})
	go d.engine.UpdateActiveRegion(func(*info.Region) error { // a put holding the round lock
		close(held)
		<-release
		return nil
	})
	<-held
	errs := make(chan error, 2)
	for _, c := range []web.UpgradeChoice{web.KeepUpgraded, web.RestoreDefaults} {
		go func() { errs <- b.Upgrade(ctx, c) }()
	}
	time.Sleep(200 * time.Millisecond) // both choices reach the engine's lock
	close(release)
	var applied, refused int
	for range 2 {
		err := <-errs
		if err == nil {
			applied++
			continue
		}
		require.ErrorIs(t, err, web.ErrNoUpgrade)
		refused++
	}
	require.Equal(t, 1, applied)
	require.Equal(t, 1, refused)
	var choices int
	for _, ev := range d.logbook.allEvents() {
		if ev.Kind == "upgrade-choice" {
			choices++
		}
	}
	require.Equal(t, 1, choices, "one choice ran")
}
