package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/internal/flashspec"
)

// TestChipImageGone: an image file removed, or replaced by another file
// renamed over it, while the daemon runs raises the alarm (a chip-gone
// event, Status().ChipsGone naming the file) and every write is refused
// with an error wrapping ErrChipGone that names the file, also one that
// bypasses the API's check (the chips' guard); reads go on. The file moved
// back clears the alarm (chip-back).
func TestChipImageGone(t *testing.T) {
	for _, how := range []string{"removed", "replaced"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			files := [2]string{filepath.Join(dir, "chip0.img"), filepath.Join(dir, "chip1.img")}
			var lines lineLog
			d, err := Open(context.Background(), Options{Primary: simSpec(t, "flash0", files[0]), Backup: simSpec(t, "flash1", files[1]), StateDir: dir, Seed: 1, Logf: lines.logf})
			require.NoError(t, err)
			t.Cleanup(func() { d.Close() })
			_, err = d.SyncNow(context.Background())
			require.NoError(t, err)
			require.Empty(t, d.Backend().Status().ChipsGone)

			// The simulated CMC changes the primary: the next round has
			// something to write.
			require.NoError(t, d.stepCMC(cmcsim.New(7), time.Hour))

			aside := files[1] + ".aside"
			require.NoError(t, os.Link(files[1], aside)) // keeps the inode, to move it back
			switch how {
			case "removed":
				require.NoError(t, os.Remove(files[1]))
			case "replaced":
				copyFile(t, files[1], files[1]+".copy")
				require.NoError(t, os.Rename(files[1]+".copy", files[1]))
			}

			st := d.Backend().Status()
			require.Len(t, st.ChipsGone, 1)
			require.Equal(t, "flash1", st.ChipsGone[0].Chip)
			require.Equal(t, files[1], st.ChipsGone[0].Path)
			require.Contains(t, st.ChipsGone[0].Detail, files[1]+" of chip flash1 was "+how)
			require.Equal(t, 1, lines.count("ERROR: the image file "+files[1]), "logged once")
			require.True(t, hasEvent(d, ChipGoneEvent, files[1]))

			// The API refuses before anything runs; the chips' guard
			// refuses a write that comes another way.
			_, err = d.Backend().SyncNow(context.Background())
			require.ErrorIs(t, err, ErrChipGone)
			require.ErrorContains(t, err, files[1])
			err = d.chips[0].Erase(0, d.chips[0].Geometry().EraseSize)
			require.ErrorIs(t, err, ErrChipGone, "the guard refuses an erase of the other chip too")
			// A round past the API's check (a scheduled one) with
			// something to write fails at its first write.
			rep, err := d.SyncNow(context.Background())
			require.ErrorIs(t, err, ErrChipGone, "%+v", rep)
			require.ErrorContains(t, err, files[1])
			require.Zero(t, rep.BytesWritten)
			// Reads go on.
			buf := make([]byte, 4096)
			_, err = d.chips[1].ReadAt(buf, 0)
			require.NoError(t, err)
			require.NotEmpty(t, d.Backend().Events())

			// The same file back at its path: the alarm clears.
			require.NoError(t, os.Rename(aside, files[1]))
			require.Empty(t, d.Backend().Status().ChipsGone)
			require.True(t, hasEvent(d, ChipBackEvent, files[1]))
			round, err := d.Backend().SyncNow(context.Background())
			require.NoError(t, err)
			require.Equal(t, "committed", round.Outcome, "the refused round's changes commit once the file is back")
		})
	}
}

// TestDeviceNodeGone: an MTD chip's device node that vanishes, or an
// operation failing with ENODEV, is reported as an image file is (a
// regular file stands in for the node: the check is the same stat).
func TestDeviceNodeGone(t *testing.T) {
	node := filepath.Join(t.TempDir(), "mtd5")
	require.NoError(t, os.WriteFile(node, nil, 0o600))
	b, err := watchBacking(flashspec.Spec{Backend: flashspec.MTD, Device: node}, "flash1")
	require.NoError(t, err)
	defer b.close()
	require.Empty(t, b.probe())
	require.NoError(t, os.Remove(node))
	require.Contains(t, b.probe(), "the device node "+node+" of chip flash1 was removed")

	require.NoError(t, os.WriteFile(node, nil, 0o600))
	b, err = watchBacking(flashspec.Spec{Backend: flashspec.MTD, Device: node}, "flash1")
	require.NoError(t, err)
	defer b.close()
	b.sawError(fmt.Errorf("%w: read at 0x0", hal.ErrMedia))
	require.Empty(t, b.probe(), "another error says nothing about the device")
	b.sawError(&hal.OpError{Op: "read", Dev: "flash1", Err: fmt.Errorf("%w: kernel: %w", hal.ErrMedia, syscall.ENODEV)})
	require.Contains(t, b.probe(), "the device "+node+" of chip flash1 is gone: an operation failed with ENODEV")
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, b, 0o644))
}

func hasEvent(d *Daemon, kind, substr string) bool {
	for _, ev := range d.Backend().Events() {
		if ev.Kind == kind && strings.Contains(ev.Detail, substr) {
			return true
		}
	}
	return false
}
