package daemon

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/internal/flashspec"
)

// TestOpenBlankStandby: a start on a pair whose backup chip is blank (a
// replaced chip) formats nothing and reports, in the status, that the
// standby has no store and that `cmcsync reseed` brings it back (never
// --format, which would erase the primary's store).
func TestOpenBlankStandby(t *testing.T) {
	dir := t.TempDir()
	var specs [2]flashspec.Spec
	for i, name := range []string{"flash0", "flash1"} {
		specs[i] = simSpec(t, name, filepath.Join(dir, name+".img"))
	}
	prepareChips(t, specs, [2]chipState{synced, synced})
	// The backup chip replaced by a new, blank one.
	st0, err := os.Stat(specs[1].File)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(specs[1].File, bytes.Repeat([]byte{0xFF}, int(st0.Size())), 0o600))
	primary, err := os.ReadFile(specs[0].File)
	require.NoError(t, err)
	d, err := Open(context.Background(), Options{Primary: specs[0], Backup: specs[1]})
	require.NoError(t, err)
	require.False(t, d.Formatted(), "a blank chip beside a store is a replaced chip, not a cut format")
	st := d.Status()
	require.Contains(t, st.LastError, "has no store")
	require.Contains(t, st.LastError, "`cmcsync reseed`")
	require.NoError(t, d.Close())
	after, err := os.ReadFile(specs[0].File)
	require.NoError(t, err)
	require.True(t, bytes.Equal(primary, after), "the primary chip was written")
}
