package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSyncPopulateRecordsWallClock: sync --populate on simulated chips
// runs in about a second of real time, while the chips charge their
// datasheet time (formatting and filling two 32 MiB chips: some 40 s) to
// a virtual clock. Every time it records (the format's, the image's build
// time, the committed generation's sync time and next sync) and prints
// (the round's start, events, status) is the wall clock's, within a
// second; the round's duration is still the chips' (simulated) time. The
// second sync's generation is not dated before the first's (the virtual
// clock's lead made it so).
func TestSyncPopulateRecordsWallClock(t *testing.T) {
	dir := t.TempDir()
	chip := func(n string) string { return "sim:part=mx66l1g45g,size=32M,file=" + filepath.Join(dir, n) }
	pair := []string{"--primary", chip("p.img"), "--backup", chip("b.img"), "--json"}
	type syncJSON struct {
		Round struct {
			Started         time.Time `json:"started"`
			DurationSeconds float64   `json:"duration_seconds"`
		} `json:"round"`
		Status struct {
			LastSync time.Time `json:"last_sync"`
			NextSync time.Time `json:"next_sync"`
		} `json:"status"`
		Events []struct {
			Time time.Time `json:"time"`
		} `json:"events"`
	}
	type inspectJSON struct {
		Image struct {
			Built time.Time `json:"built"`
		} `json:"image"`
		Store struct {
			Superblock struct {
				Formatted time.Time `json:"formatted"`
			} `json:"superblock"`
			Time     time.Time `json:"time"`
			NextSync time.Time `json:"next_sync"`
		} `json:"store"`
	}
	var prev time.Time
	for i, args := range [][]string{append(pair, "--populate"), pair} {
		before := time.Now()
		out, errOut, err := runCmd("sync", args...)
		after := time.Now()
		require.NoError(t, err, errOut)
		var s syncJSON
		require.NoError(t, json.Unmarshal([]byte(out), &s))
		out, errOut, err = runCmd("inspect", "--json", "--flash", chip("b.img"))
		require.NoError(t, err, errOut)
		var in inspectJSON
		require.NoError(t, json.Unmarshal([]byte(out), &in))

		wall := func(name string, got time.Time, res time.Duration) {
			t.Helper()
			lo, hi := before.Add(-time.Second).Truncate(res), after.Add(time.Second)
			require.False(t, got.Before(lo) || got.After(hi), "sync %d: %s %v is not the wall clock's time (the command ran from %v to %v)", i+1, name, got, before, after)
		}
		wall("round started", s.Round.Started, 1)
		wall("status last sync", s.Status.LastSync, 1)
		wall("status next sync less the interval", s.Status.NextSync.Add(-5*time.Minute), 1)
		require.NotEmpty(t, s.Events)
		for _, ev := range s.Events {
			wall("event", ev.Time, 1)
		}
		wall("store sync time", in.Store.Time, 1)
		wall("store next sync less the interval", in.Store.NextSync.Add(-5*time.Minute), 1)
		require.True(t, in.Store.Time.After(prev), "sync %d: generation dated %v, the one before %v", i+1, in.Store.Time, prev)
		prev = in.Store.Time
		if i == 0 {
			wall("image built", in.Image.Built, time.Second)
			wall("store formatted", in.Store.Superblock.Formatted, 1)
			// The chips' datasheet time for the round (8.47 s at this
			// writing), neither the wall clock's (under a second) nor measured
			// from the wall-clock start (the virtual clock's lead, some 40 s).
			require.InDelta(t, 10.0, s.Round.DurationSeconds, 5.0, "round duration")
		}
	}
}
