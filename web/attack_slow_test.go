package web_test

import (
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/web"
)

// dripUntilClosed writes first, then one chunk of more every 500 ms,
// until the server closes the connection; it returns how long that took
// and everything the server sent.
func dripUntilClosed(t *testing.T, c net.Conn, first, more string, limit time.Duration) (time.Duration, string) {
	t.Helper()
	start := time.Now()
	_, err := io.WriteString(c, first)
	require.NoError(t, err)
	read := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(c) // until the server closes (or the deadline)
		read <- string(b)
	}()
	require.NoError(t, c.SetDeadline(start.Add(limit)))
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case got := <-read:
			return time.Since(start), got
		case <-tick.C:
			if more != "" {
				io.WriteString(c, more) // fails once the server closed
			}
		}
	}
}

// TestSlowClientsAreCut: a client that sends its headers a line at a time
// (slowloris), one that sends its body a byte at a time, and one that
// completes a TLS handshake and then says nothing are all cut off by the
// server's deadlines (10 s for headers, 30 s for a whole request), so
// none holds a connection slot for long.
func TestSlowClientsAreCut(t *testing.T) {
	certFile, keyFile, _ := writeSelfSigned(t)
	serve := func(t *testing.T, tlsOn bool) string {
		o := web.Options{Token: testToken}
		if tlsOn {
			o.TLSCert, o.TLSKey = certFile, keyFile
		}
		s, err := web.New(newFake(), o)
		require.NoError(t, err)
		return serveOnLoopback(t, s)
	}
	t.Run("headers a line at a time", func(t *testing.T) {
		t.Parallel()
		c, err := net.Dial("tcp", serve(t, false))
		require.NoError(t, err)
		defer c.Close()
		took, _ := dripUntilClosed(t, c, "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n", "X-Slow: 1\r\n", 20*time.Second)
		require.Less(t, took, 13*time.Second, "cut at the 10 s header deadline")
		require.Greater(t, took, 9*time.Second)
	})
	t.Run("body a byte at a time", func(t *testing.T) {
		t.Parallel()
		c, err := net.Dial("tcp", serve(t, false))
		require.NoError(t, err)
		defer c.Close()
		head := "PUT /api/selection HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer " + testToken + "\r\nContent-Length: 1000\r\n\r\n{"
		took, got := dripUntilClosed(t, c, head, " ", 40*time.Second)
		require.Less(t, took, 33*time.Second, "cut at the 30 s request deadline")
		require.Greater(t, took, 29*time.Second)
		require.True(t, got == "" || strings.Contains(got, " 400 "), "no change is made: %q", got)
	})
	t.Run("TLS then silence", func(t *testing.T) {
		t.Parallel()
		c, err := tls.Dial("tcp", serve(t, true), &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
		require.NoError(t, err)
		defer c.Close()
		require.Equal(t, "h2", c.ConnectionState().NegotiatedProtocol)
		took, _ := dripUntilClosed(t, c, "", "", 20*time.Second)
		require.Less(t, took, 13*time.Second, "an HTTP/2 connection that never sends its preface is cut")
	})
}
