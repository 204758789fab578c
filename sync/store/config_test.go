package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestCommitConfig: a configuration committed on its own, without a data
// round, is the committed one: it drops a staged one, a restart keeps it,
// and the purge of a later interrupted round does not revert it (the
// configuration after a purge is the last one committed, by a round or on
// its own). Committing the committed configuration again writes nothing;
// a pending round refuses it.
func TestCommitConfig(t *testing.T) {
	f, s := newStore(t)
	ps := payloads{1: randomBytes(1, 30000)}
	runRound(t, s, 1, ps)
	require.NoError(t, s.StageConfig(Config{Types: []uint8{4}, Interval: time.Hour}))
	cfg := Config{Types: []uint8{1, 2, 3}, Interval: 5 * time.Minute, Threshold: 2 * time.Second, GroupSize: 2, RetryAtOnce: true}
	changed, err := s.CommitConfig(cfg)
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, cfg, s.State().Config)
	_, staged := s.Staged()
	require.False(t, staged, "the commit drops the staged configuration")

	before := f.Stats()
	changed, err = s.CommitConfig(cfg)
	require.NoError(t, err)
	require.False(t, changed, "the committed configuration again")
	d := f.Stats().Sub(before)
	require.Zero(t, d.Programs+d.Erases, "nothing written")

	s = openTest(t, f, Options{})
	require.Equal(t, cfg, s.State().Config, "after a restart")
	// A round with another configuration is cut after its first chunk;
	// its purge leaves the configuration committed on its own.
	r, err := s.Begin(planOf(2, payloads{1: randomBytes(2, 30000)}))
	require.NoError(t, err)
	w := r.Writes()[0]
	lo, hi := ChunkBounds(30000, testPhase, 4096, w.Index)
	_, _, err = r.Write(0, randomBytes(2, 30000)[lo:hi])
	require.NoError(t, err)
	_, err = s.CommitConfig(Config{Types: []uint8{5}})
	require.ErrorIs(t, err, ErrPending)
	s = openTest(t, f, Options{})
	require.NotNil(t, s.Interrupted())
	_, err = s.CommitConfig(cfg)
	require.ErrorIs(t, err, ErrPending)
	_, err = s.Purge()
	require.NoError(t, err)
	require.Equal(t, cfg, s.State().Config, "after the purge")
	s = openTest(t, f, Options{ReadOnly: true})
	require.Equal(t, cfg, s.State().Config, "after the purge and a restart")
	checkPayloads(t, s, ps)
	_, err = s.CommitConfig(cfg)
	require.ErrorIs(t, err, ErrReadOnly)

	// It survives a compaction.
	s = openTest(t, f, Options{})
	require.NoError(t, s.Compact())
	s = openTest(t, f, Options{ReadOnly: true})
	require.Equal(t, cfg, s.State().Config, "after a compaction")
	require.Empty(t, s.Damage())
}
