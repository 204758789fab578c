package daemon

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/store"
	"github.com/cmcsync/cmcsync/web"
)

// TestCommittedConfigInvalidThroughTheAPI: a daemon whose backup holds a
// committed configuration the engine refuses (no types, group size 2)
// starts, says so in Status.LastError, answers "sync now" with a conflict
// (409) naming the field and the fix, and spends no wear-budget token on
// it; a valid configuration through the API repairs it and "sync now"
// commits. (Before, the round committed a "nothing-changed" generation.)
func TestCommittedConfigInvalidThroughTheAPI(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Primary: simSpec(t, "flash0", filepath.Join(dir, "chip0.img")), Backup: simSpec(t, "flash1", filepath.Join(dir, "chip1.img")), Seed: 1}
	d, err := Open(context.Background(), opts)
	require.NoError(t, err)
	l := d.layout
	require.NoError(t, d.Close())

	part, err := sim.LookupPart("mx66l1g45g")
	require.NoError(t, err)
	b, err := sim.OpenFile(filepath.Join(dir, "chip1.img"), sim.Options{Part: part, Size: 8 << 20})
	require.NoError(t, err)
	s, err := store.Open(b, l.StoreOff, l.StoreSize, store.Options{})
	require.NoError(t, err)
	_, err = s.CommitConfig(store.Config{Interval: time.Minute, Threshold: 2 * time.Second, GroupSize: 2})
	require.NoError(t, err)
	gen := s.State().Generation
	s.Release()
	require.NoError(t, b.Close())

	d, err = Open(context.Background(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	d.budget = newTokenBucket(Budget{Burst: 1, Every: time.Hour}, newHandClock(time.Time{}).mono)
	require.Contains(t, d.Status().LastError, "select at least one information type")
	be := d.Backend()
	_, err = be.SyncNow(context.Background())
	require.ErrorIs(t, err, web.ErrConflict)
	require.ErrorIs(t, err, engine.ErrCommittedConfig)
	require.ErrorContains(t, err, "cmcsync config set")
	require.Equal(t, gen, d.Status().Generation, "no generation committed")

	valid := be.Config()
	valid.Types = []string{"power", "fan"}
	valid.GroupSize = 0
	require.NoError(t, be.SetConfig(valid), "the refused sync spent no token")
	d.budget = newTokenBucket(Budget{Burst: 1, Every: time.Hour}, newHandClock(time.Time{}).mono)
	r, err := be.SyncNow(context.Background())
	require.NoError(t, err)
	require.Contains(t, []string{"committed", "nothing-changed"}, r.Outcome)
	require.Greater(t, d.Status().Generation, gen)
}
