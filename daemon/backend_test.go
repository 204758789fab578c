package daemon

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/web"
)

func TestWebRound(t *testing.T) {
	started := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		rep  engine.RoundReport
		err  error
		want web.Round
	}{
		{"committed", engine.RoundReport{Started: started, Generation: 4, Outcome: engine.OutcomeCommitted, Types: engine.TypeList{info.Power, info.EventLog},
			BytesRead: 10, BytesWritten: 20, Erases: 3, PagesProgrammed: 7, Duration: 1500 * time.Millisecond, WaitResponse: 250 * time.Millisecond},
			nil,
			web.Round{Time: started, Generation: 4, Outcome: "committed", Types: []string{"power", "event-log"},
				BytesRead: 10, BytesWritten: 20, Erases: 3, PagesProgrammed: 7, DurationSeconds: 1.5, WaitResponseSec: 0.25}},
		{"the report's own error wins", engine.RoundReport{Started: started, Outcome: engine.OutcomeError, Error: "program failed"},
			errors.New("wrapped: program failed"),
			web.Round{Time: started, Outcome: "error", Types: []string{}, Error: "program failed"}},
		{"an error before the round started", engine.RoundReport{}, errors.New("chip closed"),
			web.Round{Outcome: "error", Types: []string{}, Error: "chip closed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := webRound(tt.rep, tt.err)
			if tt.rep.Started.IsZero() {
				require.WithinDuration(t, time.Now(), got.Time, time.Minute, "a round without a start time is stamped now")
				got.Time = time.Time{}
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestBackendConfig(t *testing.T) {
	b := openSim(t, 1).Backend()
	valid := web.Config{Types: []string{"power", "event-log"}, Interval: web.Duration(time.Hour), Threshold: web.Duration(400 * time.Millisecond), Verify: true}
	tests := []struct {
		name      string
		cfg       web.Config
		wantField string // a FieldError on this field
		wantErr   string // else an ErrInvalid with this text
	}{
		{"unknown type", web.Config{Types: []string{"power", "fans"}, Interval: web.Duration(time.Hour), Threshold: web.Duration(time.Second)}, "types", ""},
		// The API's own limits (web.Config.Validate), also for a caller
		// that bypasses the server's check: the field is named.
		{"no threshold", web.Config{Types: []string{"power"}, Interval: web.Duration(time.Hour)}, "threshold_seconds", ""},
		{"no type", web.Config{Interval: web.Duration(time.Hour), Threshold: web.Duration(time.Second)}, "types", ""},
		{"interval below the API's 1s (the engine allows 100ms)", web.Config{Types: []string{"power"}, Interval: web.Duration(999 * time.Millisecond), Threshold: web.Duration(time.Second)}, "interval_seconds", ""},
		{"threshold above the API's 10m (the engine allows 1h)", web.Config{Types: []string{"power"}, Interval: web.Duration(time.Hour), Threshold: web.Duration(10*time.Minute + time.Millisecond)}, "threshold_seconds", ""},
		{"group size above the types", web.Config{Types: []string{"power"}, Interval: web.Duration(time.Hour), Threshold: web.Duration(time.Second), GroupSize: 2}, "group_size", ""},
		{"duplicate type", web.Config{Types: []string{"power", "power"}, Interval: web.Duration(time.Hour), Threshold: web.Duration(time.Second)}, "types", ""},
		{"valid", valid, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := b.Config()
			err := b.SetConfig(tt.cfg)
			switch {
			case tt.wantField != "":
				var fe *web.FieldError
				require.ErrorAs(t, err, &fe)
				require.Equal(t, tt.wantField, fe.Field)
				require.ErrorIs(t, err, web.ErrInvalid)
			case tt.wantErr != "":
				require.ErrorIs(t, err, web.ErrInvalid)
				require.ErrorContains(t, err, tt.wantErr)
			default:
				require.NoError(t, err)
				require.Equal(t, tt.cfg, b.Config())
				return
			}
			require.Equal(t, before, b.Config(), "a refused configuration changes nothing")
		})
	}
}

func TestBackendStatus(t *testing.T) {
	d := openSim(t, 1)
	b := d.Backend()
	st := b.Status()
	require.Equal(t, "primary", st.Active)
	require.Equal(t, "1.0.0", st.ImageVersion, "the engine reads the primary's image version at Open")
	require.Equal(t, []web.Chip{
		{Role: "primary", Name: "flash0", Geometry: "nor 8MiB erase=4KiB write=1 page=256"},
		{Role: "backup", Name: "flash1", Geometry: "nor 8MiB erase=4KiB write=1 page=256"},
	}, st.Chips)
	require.Len(t, st.Types, 6)
	for _, ts := range st.Types {
		require.Equal(t, "pending", ts.State, ts.Name)
	}

	require.NoError(t, b.SetConfig(web.Config{Types: []string{"power", "event-log"}, Interval: web.Duration(time.Hour), Threshold: web.Duration(time.Second)}))
	round, err := b.SyncNow(context.Background())
	require.NoError(t, err)
	require.Equal(t, uint64(1), round.Generation)
	st = b.Status()
	states := map[string]string{}
	for _, ts := range st.Types {
		states[ts.Name] = ts.State
	}
	require.Equal(t, map[string]string{"power": "synced", "event-log": "synced", "fan": "not-selected", "node": "not-selected", "fault-log": "not-selected", "asset": "not-selected"}, states)
	require.Equal(t, "1.0.0", st.ImageVersion)
	require.Equal(t, uint64(1), st.Counters.Rounds)
	require.Equal(t, round.BytesWritten, st.Counters.BytesWritten)
	require.False(t, st.NextSync.IsZero())

	types := b.Types()
	require.Len(t, types, 6)
	for _, ty := range types {
		require.NotEmpty(t, ty.Title, ty.Name)
		require.NotEmpty(t, ty.Holds, ty.Name)
		require.NotEmpty(t, ty.WhyBackup, ty.Name)
	}
	evs := b.Events()
	require.NotEmpty(t, evs)
	require.Equal(t, "commit", evs[len(evs)-1].Kind)
}

// TestBackendUpgrade: the two choices after a simulated image upgrade,
// and the errors the API answers 400 and 409 for.
func TestBackendUpgrade(t *testing.T) {
	d := openSim(t, 1)
	var log roundLog
	d.SetRecorder(&log)
	b := d.Backend()
	sim, ok := b.(web.UpgradeSimulator)
	require.True(t, ok, "simulated chips can be upgraded")
	ctx := context.Background()
	_, err := b.SyncNow(ctx)
	require.NoError(t, err)

	require.ErrorIs(t, b.Upgrade(ctx, web.KeepUpgraded), web.ErrNoUpgrade)
	require.ErrorIs(t, b.Upgrade(ctx, "keep-both"), web.ErrInvalid)
	for i, choice := range []web.UpgradeChoice{web.KeepUpgraded, web.RestoreDefaults} {
		require.NoError(t, sim.SimulateUpgrade(ctx))
		st := b.Status()
		require.NotNil(t, st.Upgrade, choice)
		require.Equal(t, []string{"1.0.0", "1.1.0", "1.2.0"}[i+1], st.Upgrade.ToVersion)
		_, err := b.SyncNow(ctx)
		require.ErrorIs(t, err, web.ErrConflict, "no sync while the choice is pending")
		require.NoError(t, b.Upgrade(ctx, choice))
		st = b.Status()
		require.Nil(t, st.Upgrade, choice)
		require.Equal(t, []string{"1.1.0", "1.2.0"}[i], st.ImageVersion)
	}
	kinds := map[string]int{}
	for _, ev := range b.Events() {
		kinds[ev.Kind]++
	}
	require.Equal(t, 2, kinds["upgrade-choice"], "%v", kinds)
	rounds := log.all()
	require.Len(t, rounds, 4, "per upgrade: the round that noticed it, the choice's round")
	require.Equal(t, engine.OutcomeUpgradePending, rounds[0].Outcome)
}

func TestBackendOnRealChips(t *testing.T) {
	_, ok := (&Daemon{}).Backend().(web.UpgradeSimulator)
	require.False(t, ok, "real chips cannot be upgraded from the page")
}

// TestTypesCarryRegionSizes: the page quotes the running information
// region's sizes (web.TypeInfo.CapacityBytes, RegionBytes).
func TestTypesCarryRegionSizes(t *testing.T) {
	types := openSim(t, 1).Backend().Types()
	require.Len(t, types, len(info.All()))
	for _, ti := range types {
		require.Positive(t, ti.CapacityBytes, ti.Name)
		require.Positive(t, ti.RegionBytes, ti.Name)
		require.Less(t, ti.CapacityBytes, ti.RegionBytes, ti.Name)
	}
}

// TestBackendFailbackRefused: a failback with chip A active is refused as
// a conflict (the API's 409), writing nothing.
func TestBackendFailbackRefused(t *testing.T) {
	b := openSim(t, 1).Backend()
	_, err := b.Failback(t.Context())
	require.ErrorIs(t, err, web.ErrConflict)
	require.ErrorContains(t, err, "already the active chip")
}
