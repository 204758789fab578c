package main

import (
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
