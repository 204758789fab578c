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

// invalidCommitted is a committed configuration the store's rules allow
// and Config.Validate refuses (interval 0), with one type, so that a
// restore-defaults of it would write the primary.
var invalidCommitted = store.Config{Types: []uint8{uint8(info.Power)}, Threshold: 2 * time.Second}

// TestReseedRefusesInvalidCommittedConfigFirst: the active chip's store
// holds a committed configuration Validate refuses. Reseed refuses before
// it formats the standby (ErrReseedRefused and ErrCommittedConfig, the
// standby's bytes unchanged): it used to format it and only then have
// its round refuse. ReseedWithConfig formats it with a valid
// configuration instead, which the round commits.
func TestReseedRefusesInvalidCommittedConfigFirst(t *testing.T) {
	p := syncedPairAfter(t, DefaultConfig(), 0)
	l := p.opts.Layout
	s, err := store.Open(p.chipA, l.StoreOff, l.StoreSize, store.Options{})
	require.NoError(t, err)
	_, err = s.CommitConfig(invalidCommitted)
	require.NoError(t, err)
	s.Release()
	require.NoError(t, p.chipB.Erase(0, p.chipB.Geometry().Size))
	a, b := chipBytes(t, p.chipA), chipBytes(t, p.chipB)

	_, err = Reseed(context.Background(), p.chipA, p.chipB, p.opts, [2]bool{})
	require.ErrorIs(t, err, ErrReseedRefused)
	require.ErrorIs(t, err, ErrCommittedConfig)
	require.Contains(t, err.Error(), "interval 0s out of range")
	require.Contains(t, err.Error(), "cmcsync reseed --default-config")
	require.True(t, bytes.Equal(a, chipBytes(t, p.chipA)), "chip A written")
	require.True(t, bytes.Equal(b, chipBytes(t, p.chipB)), "chip B written before the refusal")

	_, err = ReseedWithConfig(context.Background(), p.chipA, p.chipB, p.opts, [2]bool{}, Config{})
	require.ErrorIs(t, err, ErrConfig, "the replacement is validated too")
	require.True(t, bytes.Equal(b, chipBytes(t, p.chipB)), "chip B written before the refusal")

	rep, err := ReseedWithConfig(context.Background(), p.chipA, p.chipB, p.opts, [2]bool{}, DefaultConfig())
	require.NoError(t, err)
	require.True(t, rep.ConfigReplaced)
	require.Equal(t, OutcomeCommitted, rep.Round.Outcome)
	require.True(t, bytes.Equal(a, chipBytes(t, p.chipA)), "the active chip is never written")
	requireReseeded(t, p)
	e := p.open(t)
	require.Equal(t, DefaultConfig(), e.Config())
	require.Empty(t, e.Status().LastError)
}

// TestReseedWithConfigKeepsAValidOne: with a valid committed
// configuration, ReseedWithConfig is Reseed: the committed one stays.
func TestReseedWithConfigKeepsAValidOne(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Types = []info.Type{info.Power, info.Fan}
	p := syncedPairAfter(t, cfg, 0)
	require.NoError(t, p.chipB.Erase(0, p.chipB.Geometry().Size))
	other := DefaultConfig()
	rep, err := ReseedWithConfig(context.Background(), p.chipA, p.chipB, p.opts, [2]bool{}, other)
	require.NoError(t, err)
	require.False(t, rep.ConfigReplaced)
	require.Equal(t, cfg.Types, p.open(t).Config().Types)
}

// TestRestoreCompletionRefusesInvalidCommittedConfigFirst: a
// restore-defaults cut after its mark, whose committed configuration
// Validate refuses, is not completed by Open or a round before the
// refusal: the primary's defaults are not written (they used to be, and
// then the round refused). Once a valid configuration is set, the next
// round completes it.
func TestRestoreCompletionRefusesInvalidCommittedConfigFirst(t *testing.T) {
	p := committedPair(t, DefaultConfig())
	l := p.opts.Layout
	s, err := store.Open(p.chipB, l.StoreOff, l.StoreSize, store.Options{})
	require.NoError(t, err)
	prev := s.State()
	gen := prev.Generation + 1
	r, err := s.Begin(store.Plan{Generation: gen, Config: invalidCommitted})
	require.NoError(t, err)
	require.NoError(t, r.Commit(store.State{Generation: gen, Time: p.clock.Now(), NextSync: prev.NextSync, Config: invalidCommitted,
		UpgradeChoice: store.ChoiceRestoreDefaults, GroupNext: prev.GroupNext, Role: prev.Role}))
	s.Release()
	before := readAll(t, p)
	power, err := p.region(t, p.chipA).Read(info.Power)
	require.NoError(t, err)
	require.NotEqual(t, info.Default(info.Power), power.Payload, "the primary's power is not the default yet")

	e := p.open(t)
	st := e.Status()
	require.True(t, st.RestoreIncomplete)
	require.Contains(t, st.LastError, "interval 0s out of range")
	require.Equal(t, before, readAll(t, p), "Open wrote before refusing")
	rep, err := e.Round(context.Background())
	require.ErrorIs(t, err, ErrCommittedConfig)
	require.Equal(t, OutcomeError, rep.Outcome)
	require.Equal(t, before, readAll(t, p), "the round wrote before refusing")
	_, err = e.UpgradeRound(context.Background(), RestoreDefaults)
	require.ErrorIs(t, err, ErrCommittedConfig)
	require.Equal(t, before, readAll(t, p), "the choice wrote before refusing")

	require.NoError(t, e.SetConfig(DefaultConfig()))
	rep, err = e.Round(context.Background())
	require.NoError(t, err)
	require.Equal(t, OutcomeCommitted, rep.Outcome)
	st = e.Status()
	require.False(t, st.RestoreIncomplete)
	require.False(t, st.UpgradePending)
	power, err = p.region(t, p.chipA).Read(info.Power)
	require.NoError(t, err)
	require.Equal(t, info.Default(info.Power), power.Payload, "the restore completed")
}
