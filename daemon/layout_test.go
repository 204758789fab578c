package daemon

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/internal/chipstate"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// TestPlacesOnRealLayout: with places, a format writes nothing outside
// the information region and the store (the first 4 MiB, where a real
// chip's bootloader and kernel live, keep their bytes), the engine syncs,
// and places that do not fit are refused before anything is written.
func TestPlacesOnRealLayout(t *testing.T) {
	dir := t.TempDir()
	boot := bytes.Repeat([]byte("u-boot! "), (4<<20)/8)
	var specs [2]flashspec.Spec
	for i, name := range []string{"flash0", "flash1"} {
		file := filepath.Join(dir, name+".img")
		img := bytes.Repeat([]byte{0xFF}, 8<<20)
		copy(img, boot)
		require.NoError(t, os.WriteFile(file, img, 0o644))
		specs[i] = simSpec(t, name, file)
	}
	o := Options{Primary: specs[0], Backup: specs[1], Format: true, Places: chipstate.Places{Info: "4M+1M", Store: "5M+3M", Image: "sha256:0+1M"}}
	d, err := Open(context.Background(), o)
	require.NoError(t, err)
	require.Equal(t, engine.Layout{InfoOff: 4 << 20, InfoSize: 1 << 20, StoreOff: 5 << 20, StoreSize: 3 << 20}, d.engine.Layout())
	rep, err := d.SyncNow(context.Background())
	require.NoError(t, err)
	require.Equal(t, engine.OutcomeCommitted, rep.Outcome)
	require.Contains(t, d.Status().CommittedVersion, "sha256:")
	require.NoError(t, d.Close())
	for _, name := range []string{"flash0", "flash1"} {
		img, err := os.ReadFile(filepath.Join(dir, name+".img"))
		require.NoError(t, err)
		require.True(t, bytes.Equal(boot, img[:4<<20]), "%s: bytes before the region changed", name)
	}

	for _, bad := range []chipstate.Places{
		{Info: "4M+1M"},
		{Info: "4M+1M", Store: "4M+4M"},
		{Info: "4M+1M", Store: "5M+3M", Image: "zip:0+1M"},
		{Info: "4M+1M", Store: "5M+3M", InfoSize: 1 << 20},
	} {
		_, err := Open(context.Background(), Options{Primary: specs[0], Backup: specs[1], Places: bad})
		require.ErrorIs(t, err, ErrPlaces, "%+v", bad)
	}

	// Named places are checked against the region header too: the
	// region the format made records 1 MiB.
	_, err = Open(context.Background(), Options{Primary: specs[0], Backup: specs[1], Places: chipstate.Places{Info: "4M+512K", Store: "5M+3M"}})
	require.ErrorIs(t, err, chipstate.ErrSizeMismatch)
	d, err = Open(context.Background(), Options{Primary: specs[0], Backup: specs[1], Places: chipstate.Places{Info: "4M+1M", Store: "5M+3M", Image: "sha256:0+1M"}})
	require.NoError(t, err)
	require.Equal(t, engine.Layout{InfoOff: 4 << 20, InfoSize: 1 << 20, StoreOff: 5 << 20, StoreSize: 3 << 20}, d.engine.Layout())
	require.NoError(t, d.Close())
}
