package engine

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TestCommittedConfigInvalid: a store whose committed configuration the
// store's own rules allow but Config.Validate refuses (written by another
// tool, or a damaged store) opens, says so at once (Status.LastError names
// the field), and is read as it is (Config); a round, Prepare and an
// upgrade choice refuse with ErrCommittedConfig before anything is
// written, so the backup's bytes are unchanged; Run retries after the
// default interval (never spins on an interval of 0); a read-only open
// still works; SetConfig with a valid configuration repairs it and the
// next round commits.
func TestCommittedConfigInvalid(t *testing.T) {
	for _, tc := range []struct {
		name string
		sc   store.Config
		want string // in the error: the field Validate names
		fix  string // in the error: the config set that fixes it
	}{
		{"no types, group size 2", store.Config{Interval: time.Minute, Threshold: 2 * time.Second, GroupSize: 2}, "select at least one information type", "`cmcsync config set --types all --group-size 0`"},
		{"group size above the types", store.Config{Types: []uint8{uint8(info.Power)}, Interval: time.Minute, Threshold: 2 * time.Second, GroupSize: 2}, "group size 2 out of range [0, 1]", "`cmcsync config set --group-size 0`"},
		{"interval 0", store.Config{Types: []uint8{uint8(info.Power)}, Threshold: 2 * time.Second}, "interval 0s out of range", "`cmcsync config set --interval 5m0s`"},
		{"threshold 0", store.Config{Types: []uint8{uint8(info.Power)}, Interval: time.Minute}, "threshold 0s out of range", "`cmcsync config set --threshold 2s`"},
		// Values at their limits are valid: the fix names only the types.
		{"no types, interval and threshold at min", store.Config{Interval: MinInterval, Threshold: MinThreshold}, "select at least one information type", "`cmcsync config set --types all`"},
		{"no types, interval and threshold at max", store.Config{Interval: MaxInterval, Threshold: MaxThreshold}, "select at least one information type", "`cmcsync config set --types all`"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := committedPair(t, DefaultConfig())
			s, err := store.Open(p.chipB, p.opts.Layout.StoreOff, p.opts.Layout.StoreSize, store.Options{})
			require.NoError(t, err)
			_, err = s.CommitConfig(tc.sc)
			require.NoError(t, err)
			gen := s.State().Generation
			before := readAll(t, p)

			ro := p.opts
			ro.ReadOnly = true
			re, err := Open(context.Background(), p.chipA, p.chipB, ro)
			require.NoError(t, err, "a read-only open (inspect, config get) still works")
			require.Equal(t, FromStoreConfig(tc.sc), re.Config())
			require.Contains(t, re.Status().LastError, tc.want)

			e := p.open(t)
			require.Equal(t, FromStoreConfig(tc.sc), e.Config(), "read as it is")
			require.Contains(t, e.Status().LastError, tc.want)
			require.Contains(t, e.Status().LastError, "cmcsync config set")

			rep, err := e.Round(context.Background())
			require.ErrorIs(t, err, ErrCommittedConfig)
			require.ErrorIs(t, err, ErrConfig)
			require.Contains(t, err.Error(), tc.want)
			require.Contains(t, err.Error(), tc.fix)
			require.Equal(t, OutcomeError, rep.Outcome)
			_, _, err = e.Prepare(context.Background())
			require.ErrorIs(t, err, ErrCommittedConfig)
			require.ErrorIs(t, e.Upgrade(RestoreDefaults), ErrNoUpgradePending, "no upgrade: refused as before")
			require.Equal(t, before, readAll(t, p), "nothing written to either chip")

			ctx, cancel := context.WithCancel(context.Background())
			var runErr error
			var failed time.Time
			opts := p.opts
			opts.OnRound = func(r RoundReport, err error) { runErr, failed = err, r.Started; cancel() }
			rn, err := Open(context.Background(), p.chipA, p.chipB, opts)
			require.NoError(t, err)
			require.ErrorIs(t, rn.Run(ctx), context.Canceled)
			require.ErrorIs(t, runErr, ErrCommittedConfig)
			require.Equal(t, DefaultConfig().Interval, rn.Status().NextSync.Sub(failed).Round(time.Second), "retried after the default interval")

			require.NoError(t, e.SetConfig(DefaultConfig()))
			rep, err = e.Round(context.Background())
			require.NoError(t, err)
			require.Equal(t, OutcomeCommitted, rep.Outcome)
			bs, err := store.Open(p.chipB, p.opts.Layout.StoreOff, p.opts.Layout.StoreSize, store.Options{ReadOnly: true})
			require.NoError(t, err)
			require.Greater(t, bs.State().Generation, gen)
		})
	}
}

// readAll returns both chips' bytes.
func readAll(t *testing.T, p *pair) [2][]byte {
	t.Helper()
	var out [2][]byte
	for i, f := range []interface {
		ReadAt([]byte, int64) (int, error)
	}{p.chipA, p.chipB} {
		b := make([]byte, p.opts.Layout.StoreOff+p.opts.Layout.StoreSize)
		_, err := f.ReadAt(b, 0)
		require.NoError(t, err)
		out[i] = b
	}
	require.False(t, bytes.Equal(out[0], nil))
	return out
}

// TestCommittedConfigInvalidRefusesUpgradeChoices: with an image upgrade
// pending and a committed configuration Validate refuses, both choices
// are refused with ErrCommittedConfig before anything is written (a
// restore-defaults would otherwise commit its mark first); a valid
// configuration then lets the choice run.
func TestCommittedConfigInvalidRefusesUpgradeChoices(t *testing.T) {
	for _, choice := range []UpgradeChoice{KeepUpgraded, RestoreDefaults} {
		t.Run(choice.String(), func(t *testing.T) {
			p := committedPair(t, DefaultConfig())
			s, err := store.Open(p.chipB, p.opts.Layout.StoreOff, p.opts.Layout.StoreSize, store.Options{})
			require.NoError(t, err)
			_, err = s.CommitConfig(store.Config{Interval: time.Minute, Threshold: 2 * time.Second, GroupSize: 2})
			require.NoError(t, err)
			upgradePrimary(t, p, "2.0.0")
			before := readAll(t, p)

			e := p.open(t)
			require.True(t, e.Status().UpgradePending)
			_, err = e.UpgradeRound(context.Background(), choice)
			require.ErrorIs(t, err, ErrCommittedConfig)
			require.Equal(t, before, readAll(t, p), "nothing written")

			require.NoError(t, e.SetConfig(DefaultConfig()))
			_, err = e.UpgradeRound(context.Background(), choice)
			require.NoError(t, err)
			require.False(t, e.Status().UpgradePending)
		})
	}
}
