package daemon

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestFlashHealth: per chip the work since Open and the worst block's
// wear against its endurance; the backup's health and scrub age follow
// the last scrub.
func TestFlashHealth(t *testing.T) {
	d := openSim(t, 1)
	before := d.FlashHealth()
	require.Len(t, before.Chips, 2)
	require.False(t, before.Scrubbed, "no scrub yet")
	require.True(t, before.BackupHealthy)
	_, err := d.SyncNow(context.Background())
	require.NoError(t, err)
	after := d.FlashHealth()
	for i, c := range after.Chips {
		require.Equal(t, []string{"flash0", "flash1"}[i], c.Name)
		require.Equal(t, int64(100_000), c.Endurance)
		require.GreaterOrEqual(t, c.WorstBlockErases, before.Chips[i].WorstBlockErases)
		require.Positive(t, c.BytesRead, c.Name)
	}
	backup := after.Chips[1]
	require.Greater(t, backup.BytesWritten, before.Chips[1].BytesWritten, "the round wrote the backup")
	require.Greater(t, backup.Erases, before.Chips[1].Erases)
	require.Positive(t, backup.WorstBlockErases)

	require.NoError(t, d.Scrub(context.Background()))
	h := d.FlashHealth()
	require.True(t, h.Scrubbed)
	require.True(t, h.BackupHealthy)
	require.Less(t, h.ScrubAge, time.Minute)

	d.logbook.scrubbed(scrubResult{Time: time.Now(), Bad: 2, mono: monotonic()})
	require.False(t, d.FlashHealth().BackupHealthy, "a scrub that found bad chunks")
}

// TestScrubSchedule: Run scrubs every ScrubEvery; the scrub goes to the
// history and survives a restart.
func TestScrubSchedule(t *testing.T) {
	dir := t.TempDir()
	o := fileOptions(t, dir)
	o.ScrubEvery = 10 * time.Millisecond
	d, err := Open(context.Background(), o)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	require.Eventually(t, func() bool { return d.FlashHealth().Scrubbed }, 30*time.Second, 5*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	require.NoError(t, d.Close())

	d, err = Open(context.Background(), fileOptions(t, dir))
	require.NoError(t, err)
	defer d.Close()
	h := d.FlashHealth()
	require.True(t, h.Scrubbed, "the last scrub is kept in the history")
	require.GreaterOrEqual(t, h.ScrubAge, time.Duration(0))
}
