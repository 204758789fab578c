package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/daemon/history"
	"github.com/cmcsync/cmcsync/internal/devlock"
	"github.com/cmcsync/cmcsync/internal/flashspec"
)

// TestSecondDaemonOnAStateFolderTouchesNothing: a second daemon opened on
// a state folder a running daemon uses (the same chips, or other chips) is
// refused as busy, naming the folder, before it writes anything there: the
// running daemon's history log keeps exactly its own records (two writers
// at their own offsets overwrite each other's records, and an Open that
// finds the other's record half written cuts it off as torn).
func TestSecondDaemonOnAStateFolderTouchesNothing(t *testing.T) {
	tests := []struct {
		name      string
		sameChips bool
	}{
		{"the same chips", true},
		{"other chips", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, other := t.TempDir(), t.TempDir()
			first, err := Open(context.Background(), Options{StateDir: dir,
				Primary: simSpec(t, "flash0", filepath.Join(dir, "chip0.img")), Backup: simSpec(t, "flash1", filepath.Join(dir, "chip1.img"))})
			require.NoError(t, err)
			t.Cleanup(func() { first.Close() })
			logPath := filepath.Join(dir, history.CurrentFile)
			before, err := os.ReadFile(logPath)
			require.NoError(t, err)

			chips := dir
			if !tt.sameChips {
				chips = other
			}
			second, err := Open(context.Background(), Options{StateDir: dir,
				Primary: simSpec(t, "flash0", filepath.Join(chips, "chip0.img")), Backup: simSpec(t, "flash1", filepath.Join(chips, "chip1.img"))})
			if err == nil {
				second.Close()
			}
			after, rerr := os.ReadFile(logPath)
			require.NoError(t, rerr)
			require.Equal(t, string(before), string(after), "the refused daemon wrote into the running daemon's history")
			require.ErrorIs(t, err, devlock.ErrBusy)
			require.ErrorIs(t, err, ErrStateInUse)
			require.ErrorContains(t, err, dir)
			_, err = os.Stat(filepath.Join(dir, MarkerFile))
			require.ErrorIs(t, err, os.ErrNotExist)
		})
	}
}

// TestStateFolderLockReleasedByClose: a daemon closed leaves its state
// folder to the next start.
func TestStateFolderLockReleasedByClose(t *testing.T) {
	dir := t.TempDir()
	opts := Options{StateDir: dir, Primary: simSpec(t, "flash0", filepath.Join(dir, "chip0.img")), Backup: simSpec(t, "flash1", filepath.Join(dir, "chip1.img"))}
	d, err := Open(context.Background(), opts)
	require.NoError(t, err)
	require.NoError(t, d.Close())
	d, err = Open(context.Background(), opts)
	require.NoError(t, err)
	require.NoError(t, d.Close())
}

// TestHistoryThatCannotOpenDoesNotStopTheSync: a history log that cannot
// be opened at the start (the state folder's filesystem gone read-only, as
// UBIFS does after an error; here a folder where the log should be) is not
// worth refusing the sync for: the daemon opens with its history in memory
// only, says so in its log and as a "history" event, and syncs. (It used
// to refuse to start, and under the unit restart every 5 s, syncing
// nothing.)
func TestHistoryThatCannotOpenDoesNotStopTheSync(t *testing.T) {
	dir := t.TempDir()
	opts := Options{StateDir: dir, Primary: simSpec(t, "flash0", filepath.Join(dir, "chip0.img")), Backup: simSpec(t, "flash1", filepath.Join(dir, "chip1.img"))}
	d, err := Open(context.Background(), opts)
	require.NoError(t, err)
	require.NoError(t, d.Close())
	logPath := filepath.Join(dir, history.CurrentFile)
	require.NoError(t, os.Remove(logPath))
	require.NoError(t, os.Mkdir(logPath, 0o700))

	var logs lineLog
	opts.Logf = logs.logf
	d, err = Open(context.Background(), opts)
	require.NoError(t, err)
	defer d.Close()
	require.Equal(t, 1, logs.count("history: "), "%v", logs.lines)
	found := false
	for _, ev := range d.logbook.allEvents() {
		found = found || (ev.Kind == "history" && strings.Contains(ev.Detail, "kept in memory only"))
	}
	require.True(t, found, "a history event says the history is in memory only")
	rep, err := d.SyncNow(context.Background())
	require.NoError(t, err)
	require.NotEmpty(t, rep.Outcome)
}

// TestRepeatedFailedStartWritesOnce: a start that fails as the last one
// did (a chip missing at boot, which the unit restarts every 5 s, for as
// long as it lasts) writes nothing more to the history: a day of restarts
// wrote about 50,000 fsynced records, and the 2 MiB history dropped
// everything from before them. A start that fails differently, or
// succeeds, is written as before.
func TestRepeatedFailedStartWritesOnce(t *testing.T) {
	dir := t.TempDir()
	chip0 := filepath.Join(dir, "chip0.img")
	opts := Options{StateDir: dir, Primary: simSpec(t, "flash0", chip0), Backup: simSpec(t, "flash1", filepath.Join(dir, "chip1.img"))}
	d, err := Open(context.Background(), opts)
	require.NoError(t, err)
	require.NoError(t, d.Close())
	missing, err := flashspec.Parse("mtd:/dev/cmcsync-test-no-such-mtd") // a partition not there (yet) at boot
	require.NoError(t, err)
	failing := opts
	failing.Primary = missing
	logPath := filepath.Join(dir, history.CurrentFile)
	size := func() int64 {
		fi, err := os.Stat(logPath)
		require.NoError(t, err)
		return fi.Size()
	}

	before := size()
	_, err = Open(context.Background(), failing)
	require.ErrorContains(t, err, "cmcsync-test-no-such-mtd")
	first := size()
	require.Greater(t, first, before, "the first failure is written")
	for range 3 {
		_, err = Open(context.Background(), failing)
		require.ErrorContains(t, err, "cmcsync-test-no-such-mtd")
		require.Equal(t, first, size(), "the same failure again wrote to the history")
	}

	d, err = Open(context.Background(), opts)
	require.NoError(t, err)
	kinds := eventKinds(d.logbook.allEvents())
	require.NoError(t, d.Close())
	require.Greater(t, size(), first, "a start that succeeds is written")
	require.Equal(t, 1, strings.Count(strings.Join(kinds, " "), "error"), "the failure is kept once: %v", kinds)
}
