package daemon

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/internal/chipstate"
	"github.com/cmcsync/cmcsync/internal/flashspec"
)

// chipState is what a chip's image file holds before Open.
type chipState int

const (
	missing chipState = iota // no image file
	synced                   // a formatted pair, one round committed
	blank                    // erased flash: no engine state
)

// TestOpenChipPolicy: which chips Open formats, and which it refuses.
func TestOpenChipPolicy(t *testing.T) {
	tests := []struct {
		name          string
		chips         [2]chipState
		format        bool
		force         [2]bool
		wantErr       error
		wantErrText   string
		wantFormatted bool
		wantGen       uint64
	}{
		{"first start", [2]chipState{missing, missing}, false, [2]bool{}, nil, "", true, 0},
		{"restart", [2]chipState{synced, synced}, false, [2]bool{}, nil, "", false, 1},
		{"restart with --format", [2]chipState{synced, synced}, true, [2]bool{}, chipstate.ErrRefused, "holds a cmcsync store (generation 1)", false, 0},
		{"restart with --format and the backup forced", [2]chipState{synced, synced}, true, [2]bool{false, true}, chipstate.ErrRefused, "--format --force=primary", false, 0},
		{"restart with --format and both forced", [2]chipState{synced, synced}, true, [2]bool{true, true}, nil, "", true, 0},
		{"backup image lost", [2]chipState{synced, missing}, false, [2]bool{}, ErrOneChipNew, "name=flash1` (or with the --config FILE serve was given; service stopped) formats that chip's store only", false, 0},
		{"backup image lost: --format erases both", [2]chipState{synced, missing}, false, [2]bool{}, ErrOneChipNew, "pass --format to format BOTH chips (ERASING what the existing one holds)", false, 0},
		{"primary image lost", [2]chipState{missing, synced}, false, [2]bool{}, ErrOneChipNew, "--format", false, 0},
		{"backup image lost and --format", [2]chipState{synced, missing}, true, [2]bool{}, chipstate.ErrRefused, "--force=primary", false, 0},
		{"backup image lost and --format --force=primary", [2]chipState{synced, missing}, true, [2]bool{true, false}, nil, "", true, 0},
		{"blank chips", [2]chipState{blank, blank}, false, [2]bool{}, nil, "blank or foreign chips? pass --format", false, 0},
		{"blank chips and --format", [2]chipState{blank, blank}, true, [2]bool{}, nil, "", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var specs [2]flashspec.Spec
			for i, name := range []string{"flash0", "flash1"} {
				specs[i] = simSpec(t, name, filepath.Join(dir, name+".img"))
			}
			prepareChips(t, specs, tt.chips)
			d, err := Open(context.Background(), Options{Primary: specs[0], Backup: specs[1], Format: tt.format, Force: tt.force})
			if tt.wantErrText != "" {
				require.ErrorContains(t, err, tt.wantErrText)
				if tt.wantErr != nil {
					require.ErrorIs(t, err, tt.wantErr)
				}
				return
			}
			require.NoError(t, err)
			defer d.Close()
			require.True(t, d.Simulated())
			require.Equal(t, tt.wantFormatted, d.Formatted())
			require.Equal(t, tt.wantGen, d.Status().Generation)
		})
	}
}

// TestOpenRecordedRegionSize: chips formatted with a region of another
// size open without that size given (the region header records it), and a
// size given that differs is refused; nothing is formatted either way.
func TestOpenRecordedRegionSize(t *testing.T) {
	dir := t.TempDir()
	var specs [2]flashspec.Spec
	for i, name := range []string{"flash0", "flash1"} {
		specs[i] = simSpec(t, name, filepath.Join(dir, name+".img"))
	}
	d, err := Open(context.Background(), Options{Primary: specs[0], Backup: specs[1], Places: chipstate.Places{InfoSize: 1 << 20}})
	require.NoError(t, err)
	_, err = d.SyncNow(context.Background())
	require.NoError(t, err)
	require.NoError(t, d.Close())
	for _, tc := range []struct {
		name   string
		places chipstate.Places
		err    error
	}{
		{name: "size left out"},
		{name: "same size", places: chipstate.Places{InfoSize: 1 << 20}},
		{name: "other size", places: chipstate.Places{InfoSize: 2 << 20}, err: chipstate.ErrSizeMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Open(context.Background(), Options{Primary: specs[0], Backup: specs[1], Places: tc.places})
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			defer d.Close()
			require.False(t, d.Formatted())
			require.Equal(t, uint64(1), d.Status().Generation)
			require.Equal(t, int64(1<<20), d.engine.Layout().InfoSize)
		})
	}
}

// prepareChips puts each chip's image file in its state.
func prepareChips(t *testing.T, specs [2]flashspec.Spec, states [2]chipState) {
	t.Helper()
	if states[0] == synced || states[1] == synced {
		d, err := Open(context.Background(), Options{Primary: specs[0], Backup: specs[1]})
		require.NoError(t, err)
		_, err = d.SyncNow(context.Background())
		require.NoError(t, err)
		require.NoError(t, d.Close())
	}
	for i, s := range states {
		switch s {
		case blank:
			f, err := flashspec.Open(specs[i], nil)
			require.NoError(t, err)
			require.NoError(t, hal.Close(f))
		case missing:
			for _, name := range []string{specs[i].File, specs[i].File + ".wear"} {
				if err := os.Remove(name); !os.IsNotExist(err) {
					require.NoError(t, err)
				}
			}
		}
	}
}

// TestOpenRealChips: chips that are not simulated are opened as given; a
// missing device is an error naming it.
func TestOpenRealChips(t *testing.T) {
	p, err := flashspec.Parse("mtd:/nonexistent/mtd9")
	require.NoError(t, err)
	_, err = Open(context.Background(), Options{Primary: p, Backup: p})
	require.ErrorContains(t, err, "open mtd:/nonexistent/mtd9")
}

func TestOpenInMemory(t *testing.T) {
	d := openSim(t, 1)
	require.True(t, d.Simulated())
	require.True(t, d.Formatted(), "in-memory chips are new at every start")
	st := d.Status()
	require.Equal(t, "primary", st.Active)
	require.Equal(t, uint64(0), st.Generation)
	require.True(t, DefaultConfig().Equal(st.Config))
}
