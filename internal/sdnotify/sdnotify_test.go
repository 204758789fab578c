package sdnotify

import (
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func listen(t *testing.T, name string) *net.UnixConn {
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func read(t *testing.T, c *net.UnixConn) string {
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	b := make([]byte, 4096)
	n, err := c.Read(b)
	require.NoError(t, err)
	return string(b[:n])
}

func TestNotifySocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	c := listen(t, path)
	abstract := "@cmcsync-test-" + filepath.Base(t.TempDir())
	ca := listen(t, "\x00"+abstract[1:])
	for _, tc := range []struct {
		name, socket, state string
		conn                *net.UnixConn
		named               bool
		err                 string
	}{
		{name: "no socket", socket: "", state: Ready},
		{name: "path", socket: path, state: Ready + "\n" + Status("serving"), conn: c, named: true},
		{name: "abstract", socket: abstract, state: Stopping, conn: ca, named: true},
		{name: "relative", socket: "notify", state: Ready, named: true, err: "neither a path"},
		{name: "missing socket", socket: path + ".gone", state: Ready, named: true, err: "sd_notify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			named, err := NotifySocket(tc.socket, tc.state)
			require.Equal(t, tc.named, named)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			if tc.conn != nil {
				require.Equal(t, tc.state, read(t, tc.conn))
			}
		})
	}
	t.Setenv("NOTIFY_SOCKET", path)
	named, err := Notify(Watchdog)
	require.True(t, named)
	require.NoError(t, err)
	require.Equal(t, "WATCHDOG=1", read(t, c))
}

func TestWatchdogInterval(t *testing.T) {
	for _, tc := range []struct {
		usec, pid string
		want      time.Duration
		err       bool
	}{
		{"", "", 0, false},
		{"30000000", "", 30 * time.Second, false},
		{"30000000", "42", 30 * time.Second, false},
		{"30000000", "43", 0, false}, // another process's watchdog
		{"0", "", 0, true},
		{"-5", "", 0, true},
		{"30s", "", 0, true},
		{"1000", "x", 0, true},
	} {
		got, err := watchdogInterval(tc.usec, tc.pid, 42)
		if tc.err {
			require.Error(t, err, "%+v", tc)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tc.want, got, "%+v", tc)
	}
	t.Setenv("WATCHDOG_USEC", "2000000")
	t.Setenv("WATCHDOG_PID", "")
	got, err := WatchdogInterval()
	require.NoError(t, err)
	require.Equal(t, 2*time.Second, got)
}
