package daemon

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/internal/chipstate"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TestCutFormatIsRedone cuts the power at chip operations of a first
// start's format (and of the engine's Open after it): the start fails, the
// marker stays, and the next plain start formats again by itself and
// syncs. (Without the marker such a start refused the chips, or opened a
// pair whose rounds all failed.)
func TestCutFormatIsRedone(t *testing.T) {
	tests := []struct {
		name       string
		cutAt      int64
		dropBackup bool // the backup's image file is lost too
	}{
		{"first operation", 0, false},
		{"in the primary's image", 100, false},
		{"in the backup", 9000, false},
		{"while filling the region", 14000, false},
		{"backup image missing", 9000, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			o := fileOptions(t, dir)
			cut := faults.CutAt(tt.cutAt)
			o.Faults = &cut
			_, err := Open(context.Background(), o)
			require.ErrorIs(t, err, hal.ErrPowerLoss)
			require.FileExists(t, filepath.Join(dir, MarkerFile))
			if tt.dropBackup {
				require.NoError(t, os.Remove(filepath.Join(dir, "chip1.img")))
			}

			d, err := Open(context.Background(), fileOptions(t, dir))
			require.NoError(t, err)
			defer d.Close()
			require.True(t, d.Formatted())
			require.NoFileExists(t, filepath.Join(dir, MarkerFile))
			rep, err := d.SyncNow(context.Background())
			require.NoError(t, err)
			require.Equal(t, uint64(1), rep.Generation, rep.Error)
		})
	}
}

// TestCutFormatNeverTouchesCommittedData: a marker next to chips that hold
// a committed generation (a --format cut before it reached the backup, or
// a stray marker) makes Open refuse, and leaves the images as they were.
func TestCutFormatNeverTouchesCommittedData(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(context.Background(), fileOptions(t, dir))
	require.NoError(t, err)
	_, err = d.SyncNow(context.Background())
	require.NoError(t, err)
	require.NoError(t, d.Close())
	require.NoError(t, formatMarker{dir}.set())
	before := imageDigests(t, dir)

	_, err = Open(context.Background(), fileOptions(t, dir))
	require.ErrorIs(t, err, ErrCutFormatHoldsData)
	require.ErrorContains(t, err, "generation 1")
	require.ErrorContains(t, err, "--format")
	require.Equal(t, before, imageDigests(t, dir), "nothing written")
	require.FileExists(t, filepath.Join(dir, MarkerFile))

	require.NoError(t, os.Remove(filepath.Join(dir, MarkerFile)))
	d, err = Open(context.Background(), fileOptions(t, dir))
	require.NoError(t, err, "without the marker it is a plain restart")
	require.Equal(t, uint64(1), d.Status().Generation)
	require.NoError(t, d.Close())
}

// TestMarkerOnlyWhileFormatting: a first start leaves no marker, and a
// restart writes none.
func TestMarkerOnlyWhileFormatting(t *testing.T) {
	dir := t.TempDir()
	for range 2 {
		d, err := Open(context.Background(), fileOptions(t, dir))
		require.NoError(t, err)
		require.NoFileExists(t, filepath.Join(dir, MarkerFile))
		require.NoError(t, d.Close())
	}
}

func imageDigests(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	for _, name := range []string{"chip0.img", "chip1.img"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		out[name] = sha256.Sum256(b)
	}
	return out
}

// TestCutFormatRedoneFromTheChips: a format cut after both format intents
// are on flash is redone by a plain start even when the state folder's
// marker is gone (a lost state folder; real chips have none): the chips'
// own format intents (store.Probe) say so. Cut after both stores were
// formatted (while the information region is filled), the start opens
// them as they are; cut before any intent was written, the chips are
// blank and, without the marker, nothing says a format was begun: the
// start refuses them and names --format.
func TestCutFormatRedoneFromTheChips(t *testing.T) {
	for _, tc := range []struct {
		cutAt   int64
		redone  bool
		refused bool
	}{{1, false, true}, {40, true, false}, {200, true, false}, {9000, false, false}, {14000, false, false}} {
		cutAt := tc.cutAt
		t.Run(fmt.Sprint(cutAt), func(t *testing.T) {
			dir := t.TempDir()
			o := fileOptions(t, dir)
			cut := faults.CutAt(cutAt)
			o.Faults = &cut
			_, err := Open(context.Background(), o)
			require.ErrorIs(t, err, hal.ErrPowerLoss)
			require.NoError(t, os.Remove(filepath.Join(dir, MarkerFile)))

			d, err := Open(context.Background(), fileOptions(t, dir))
			if tc.refused {
				require.ErrorContains(t, err, "--format")
				return
			}
			require.NoError(t, err)
			defer d.Close()
			require.Equal(t, tc.redone, d.Formatted())
			require.NoFileExists(t, filepath.Join(dir, MarkerFile))
			rep, err := d.SyncNow(context.Background())
			require.NoError(t, err)
			require.Equal(t, uint64(1), rep.Generation, rep.Error)
		})
	}
}

// TestCutFormatRefusesForeignData: next to the marker, a chip whose store
// range holds data that is no cmcsync store's (store.Probe: foreign) is
// refused and left as it was, and so is a chip holding a committed
// generation; a range that only holds a cut format's intent is not.
func TestCutFormatRefusesForeignData(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(context.Background(), fileOptions(t, dir))
	require.NoError(t, err)
	l := d.engine.Layout()
	require.NoError(t, d.Close())

	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, f *sim.Flash)
		refused string
	}{
		{"foreign data", func(t *testing.T, f *sim.Flash) {
			require.NoError(t, f.Erase(l.StoreOff, l.StoreSize))
			f.Poke(l.StoreOff+5*f.Geometry().EraseSize+7, []byte("user data"))
		}, "holds data"},
		{"committed generation", nil, "generation 1"},
		{"a cut format's intent", func(t *testing.T, f *sim.Flash) {
			require.NoError(t, f.Erase(l.StoreOff, l.StoreSize))
			require.NoError(t, store.MarkFormatIntent(f, l.StoreOff, l.StoreSize, store.FormatOptions{ChipID: 1, PairID: 3, MaxChunks: 64}))
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			d, err := Open(context.Background(), fileOptions(t, dir))
			require.NoError(t, err)
			_, err = d.SyncNow(context.Background())
			require.NoError(t, err)
			if tc.prepare != nil {
				tc.prepare(t, d.raw[1].(*sim.Flash))
			}
			require.NoError(t, d.Close())
			require.NoError(t, formatMarker{dir}.set())
			before := imageDigests(t, dir)

			d, err = Open(context.Background(), fileOptions(t, dir))
			if tc.refused == "" {
				require.NoError(t, err)
				require.True(t, d.Formatted())
				require.NoError(t, d.Close())
				return
			}
			require.ErrorIs(t, err, ErrCutFormatHoldsData)
			require.ErrorContains(t, err, tc.refused)
			require.Equal(t, before, imageDigests(t, dir), "nothing written")
		})
	}
}

// TestCutFormatOnOneChipIsRedone: chip A holds a store of generation 0
// and chip B only a format intent (a format cut in chip B): the engine
// could open the pair, but no round could commit on it; a plain start
// without the marker formats both again.
func TestCutFormatOnOneChipIsRedone(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(context.Background(), fileOptions(t, dir))
	require.NoError(t, err)
	l := d.engine.Layout()
	b := d.raw[1].(*sim.Flash)
	require.NoError(t, b.Erase(l.StoreOff, l.StoreSize))
	require.NoError(t, store.MarkFormatIntent(b, l.StoreOff, l.StoreSize, store.FormatOptions{ChipID: 1, PairID: 3, MaxChunks: 64}))
	require.NoError(t, d.Close())

	d, err = Open(context.Background(), fileOptions(t, dir))
	require.NoError(t, err)
	defer d.Close()
	require.True(t, d.Formatted(), "the cut format is finished")
	rep, err := d.SyncNow(context.Background())
	require.NoError(t, err)
	require.Equal(t, uint64(1), rep.Generation, rep.Error)
}

// TestRefusedFormatLeavesNoMarker: a --format start that fails before it
// writes (refused because the chips hold data and --force does not name
// them, or a chip's image file of another size than its spec) leaves no
// marker, so the next plain start does not format the chips by itself: it
// opens the committed pair as it was, and a pair whose primary holds only
// an information region (blank stores) is not formatted either (that
// start used to format both chips, erasing the region the refusal had
// just protected).
func TestRefusedFormatLeavesNoMarker(t *testing.T) {
	for _, tc := range []struct {
		name        string
		blankStores bool
		wrongSize   bool
		wantErr     error
	}{
		{"committed pair", false, false, chipstate.ErrRefused},
		{"primary region only", true, false, chipstate.ErrRefused},
		{"image of another size", false, true, sim.ErrImageMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			d, err := Open(context.Background(), fileOptions(t, dir))
			require.NoError(t, err)
			_, err = d.SyncNow(context.Background())
			require.NoError(t, err)
			l := d.layout
			require.NoError(t, d.Close())
			if tc.blankStores {
				for _, name := range []string{"chip0.img", "chip1.img"} {
					f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR, 0)
					require.NoError(t, err)
					_, err = f.WriteAt(bytes.Repeat([]byte{0xff}, int(l.StoreSize)), l.StoreOff)
					require.NoError(t, err)
					require.NoError(t, f.Close())
				}
			}
			before := imageDigests(t, dir)

			o := fileOptions(t, dir)
			o.Format = true
			if tc.wrongSize {
				sp, err := flashspec.Parse("sim:part=mx66l1g45g,size=16M,name=flash0,file=" + filepath.Join(dir, "chip0.img"))
				require.NoError(t, err)
				o.Primary = sp
			}
			_, err = Open(context.Background(), o)
			require.ErrorIs(t, err, tc.wantErr)
			require.NoFileExists(t, filepath.Join(dir, MarkerFile))
			require.Equal(t, before, imageDigests(t, dir), "nothing written")

			d, err = Open(context.Background(), fileOptions(t, dir))
			if tc.blankStores {
				require.Error(t, err, "blank stores: the start refuses, it does not format")
				require.NotErrorIs(t, err, ErrCutFormatHoldsData)
			} else {
				require.NoError(t, err)
				require.Equal(t, uint64(1), d.Status().Generation)
				require.False(t, d.Formatted())
				require.NoError(t, d.Close())
			}
			require.Equal(t, before, imageDigests(t, dir), "the plain start formatted nothing")
		})
	}
}
