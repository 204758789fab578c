package main

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestServeNotify: under a Type=notify unit serve says READY=1 once it
// serves, pings the watchdog, and says STOPPING=1 when stopped.
func TestServeNotify(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	require.NoError(t, err)
	defer c.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "200000") // 0.2 s: pings every 0.1 s
	t.Setenv("WATCHDOG_PID", "")
	next := func() string {
		require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
		b := make([]byte, 4096)
		n, err := c.Read(b)
		require.NoError(t, err)
		return string(b[:n])
	}
	r := startServe(t, "--state", filepath.Join(t.TempDir(), "state"), "--cmc-step", "0")
	first := next()
	require.True(t, strings.HasPrefix(first, "READY=1\nSTATUS=serving on 127.0.0.1:"), first)
	require.Equal(t, "WATCHDOG=1", next())
	require.Equal(t, "WATCHDOG=1", next())
	r.stop(t)
	for {
		m := next()
		if m == "WATCHDOG=1" {
			continue // sent before the stop
		}
		require.Equal(t, "STOPPING=1", m)
		break
	}
}

// TestStuckWatch: the watchdog pings while nothing holds the chips longer
// than the limit; one round or write holding them longer (a flash
// operation that never returns: the page and status still answer, so
// nothing else shows it) stops the pings, so systemd restarts serve, with
// one ERROR line; they resume, with one line, if the chips come free.
func TestStuckWatch(t *testing.T) {
	var lines []string
	w := stuckWatch{limit: time.Minute, logf: func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }}
	steps := []struct {
		held  time.Duration
		ping  bool
		lines int
	}{
		{0, true, 0},
		{30 * time.Second, true, 0},
		{time.Minute, true, 0},
		{time.Minute + time.Second, false, 1},
		{time.Hour, false, 1},
		{0, true, 2},
		{2 * time.Minute, false, 3},
	}
	for i, s := range steps {
		require.Equal(t, s.ping, w.ok(s.held), "step %d: held %v", i, s.held)
		require.Len(t, lines, s.lines, "step %d: %q", i, lines)
	}
	require.Contains(t, lines[0], "ERROR: no flash operation has returned for 1m1s")
	require.Contains(t, lines[1], "watchdog pings resume")

	off := stuckWatch{logf: func(string, ...any) { t.Fatal("no limit logs nothing") }}
	require.True(t, off.ok(24*time.Hour), "0: never stuck")
}
