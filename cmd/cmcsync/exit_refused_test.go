package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// upgradePrimaryImage writes a new image version on the primary of the
// pair in dir, as a firmware update would: the next round waits for the
// upgrade choice.
func upgradePrimaryImage(t *testing.T, dir string) {
	t.Helper()
	p, err := sim.LookupPart("mx66l1g45g")
	require.NoError(t, err)
	f, err := sim.OpenFile(filepath.Join(dir, "a.img"), sim.Options{Part: p, Size: 8 << 20})
	require.NoError(t, err)
	h, err := info.ReadImageHeader(f)
	require.NoError(t, err)
	h.Version, h.Built = "2.0.0", time.Unix(1.8e9, 0)
	require.NoError(t, info.WriteImage(f, h, 9))
	require.NoError(t, f.Close())
}

// commitInvalidConfig commits a configuration the engine refuses (no
// types, group size 2) on the backup of the pair in dir.
func commitInvalidConfig(t *testing.T, dir string, chips []string) {
	t.Helper()
	l := syncJSON(t, chips...).Layout
	part, err := sim.LookupPart("mx66l1g45g")
	require.NoError(t, err)
	b, err := sim.OpenFile(filepath.Join(dir, "b.img"), sim.Options{Part: part, Size: 8 << 20})
	require.NoError(t, err)
	s, err := store.Open(b, l.Store.Offset, l.Store.Size, store.Options{})
	require.NoError(t, err)
	_, err = s.CommitConfig(store.Config{Interval: time.Minute, Threshold: 2 * time.Second, GroupSize: 2})
	require.NoError(t, err)
	s.Release()
	require.NoError(t, b.Close())
}

// TestRefusedExitsThree: every "refused, nothing done" case of the
// commands on a pair exits 3 (docs/CLI.md, Exit status), and no byte of
// either image file changes.
func TestRefusedExitsThree(t *testing.T) {
	for _, tc := range []struct {
		name    string
		upgrade bool // the primary's image upgraded first: a choice is pending
		setup   func(t *testing.T, dir string, chips []string)
		args    []string
		want    string
	}{
		{name: "upgrade keep with nothing pending", args: []string{"upgrade", "keep"}, want: "no image upgrade is pending"},
		{name: "upgrade restore with nothing pending", args: []string{"upgrade", "restore"}, want: "no image upgrade is pending"},
		{name: "sync while an upgrade choice is pending", upgrade: true, args: []string{"sync"}, want: "sync: image upgrade pending: choose keep-upgraded or restore-defaults ("},
		{name: "sync with an invalid committed configuration", setup: commitInvalidConfig, args: []string{"sync"}, want: "the committed sync configuration is invalid"},
		{name: "upgrade keep with an invalid committed configuration", upgrade: true, setup: commitInvalidConfig, args: []string{"upgrade", "keep"}, want: "upgrade keep: the committed sync configuration is invalid"},
		{name: "info get while a restore-defaults is not complete", setup: func(t *testing.T, dir string, _ []string) {
			writeFiles(t, dir, restoreCutPairFiles(t, loadFiles(t, dir, "a.img", "a.img.wear", "b.img", "b.img.wear")))
		}, args: []string{"info", "get", "power"}, want: "is not complete"},
		{name: "failback while chip A is active", args: []string{"failback"}, want: "failback"},
		{name: "reseed when the standby holds the store", args: []string{"reseed"}, want: "reseed"},
	} {
		// (No comma in a name: t.TempDir would put one in the specs' paths.)
		t.Run(tc.name, func(t *testing.T) {
			dir, chips := pairFiles(t)
			if tc.setup != nil {
				tc.setup(t, dir, chips)
			}
			if tc.upgrade {
				upgradePrimaryImage(t, dir)
			}
			before := loadFiles(t, dir, "a.img", "b.img")
			_, _, err := runCLI(append(tc.args, chips...)...)
			require.Equal(t, exitRefused, statusOf(err), "%v", err)
			require.ErrorContains(t, err, tc.want)
			require.Equal(t, before, loadFiles(t, dir, "a.img", "b.img"), "no byte of the images changed")
		})
	}
}
