package web_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/web"
)

// dialFrom dials addr from the loopback address from (Linux routes all of
// 127.0.0.0/8 to the loopback interface), as a client on another host
// would, for the per-client bound.
func dialFrom(t *testing.T, from, addr string) *rawConn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.SetDeadline(time.Now().Add(20*time.Second))) // a failure bound
	return newRawConn(c)
}

// requireClosed: the server closed c (its read ends at once, not at the
// failure bound).
func requireClosed(t *testing.T, c *rawConn, msg string) {
	t.Helper()
	_, err := c.answer("GET")
	require.Error(t, err, msg)
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "%s: %v", msg, err)
}

// TestPerClientConnectionBound: one client (127.0.0.2) holds at most
// MaxConnsPerClient connections. Beyond it, its new connection replaces
// its own idle one, else its own that has sent nothing for longest; when
// each of its connections has a request begun, the new one is closed at
// once, unread, and the refusal is logged. Another client
// (127.0.0.3, loopback too: counted like any other) is served all along,
// its idle connection untouched, and the first client's connections in
// flight are answered. (Without the bound, the client's third connection
// was accepted and held a slot, waiting for its headers.)
func TestPerClientConnectionBound(t *testing.T) {
	const x, y = "127.0.0.2", "127.0.0.3"
	var lc logCapture
	s, err := web.New(newFake(), web.Options{Token: testToken, MaxConns: 8, MaxConnsPerClient: 2, Logf: lc.logf})
	require.NoError(t, err)
	events := make(chan string, 256)
	web.SetConnEvents(s, func(ev string) {
		select {
		case events <- ev:
		default:
		}
	})
	addr := serveOnLoopback(t, s)
	served := func(c *rawConn) {
		t.Helper()
		c.send(t, getStatus)
		code, err := c.answer("GET")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code)
		waitEvent(t, events, "idle")
	}

	y1 := dialFrom(t, y, addr)
	served(y1) // idle longest
	x1 := dialFrom(t, x, addr)
	served(x1) // idle
	x2 := dialFrom(t, x, addr)
	x2.send(t, "GET /api/status HTTP/1.1\r\n") // headers arriving: never replaced

	x3 := dialFrom(t, x, addr) // x at its bound: replaces x1, its own idle one, not y1
	waitEvent(t, events, "replaced")
	served(x3)
	requireClosed(t, x1, "x1 was closed for x3")

	x3.send(t, "GET /api/status HTTP/1.1\r\n")
	waitEvent(t, events, "busy")
	x4 := dialFrom(t, x, addr) // x at its bound, each with a request begun: closed at once
	waitEvent(t, events, "refused")
	requireClosed(t, x4, "x4 was closed unread")

	served(y1) // untouched
	served(dialFrom(t, y, addr))
	for _, c := range []*rawConn{x2, x3} {
		c.send(t, "Host: 127.0.0.1\r\n\r\n")
		code, err := c.answer("GET")
		require.NoError(t, err, "a connection of the client at its bound was cut")
		require.Equal(t, http.StatusOK, code)
	}
	y2 := dialFrom(t, y, addr)
	y2.send(t, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(y2.br, nil)
	require.NoError(t, err)
	metrics, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Contains(t, string(metrics), "cmcsync_http_connections_refused_total 1\n")
	require.NoError(t, resp.Body.Close())
	require.Contains(t, string(metrics), `cmcsync_http_limit{limit="max_conns_per_client"} 2`+"\n")
	require.Contains(t, strings.Join(lc.all(), "\n"), "web: connection from 127.0.0.2 refused: that client has 2 connections open, the most per client (serve's --max-conns-per-client), each with a request begun and none idle")
}

// TestPerClientSilentConnectionsYield: a client whose connections, all of
// its bound, have sent nothing (a flood of silent connections, or a
// browser's preconnects) is not locked out by them for the 10 s they are
// allowed: its new connection replaces its own connection silent longest,
// and is served. Another client's silent connection is not touched.
// (Without it, the new connection was closed at once.)
func TestPerClientSilentConnectionsYield(t *testing.T) {
	const x, y = "127.0.0.2", "127.0.0.3"
	s, err := web.New(newFake(), web.Options{Token: testToken, MaxConns: 8, MaxConnsPerClient: 2})
	require.NoError(t, err)
	events := make(chan string, 256)
	web.SetConnEvents(s, func(ev string) {
		select {
		case events <- ev:
		default:
		}
	})
	addr := serveOnLoopback(t, s)
	y1 := dialFrom(t, y, addr) // silent longest of all
	x1, x2 := dialFrom(t, x, addr), dialFrom(t, x, addr)
	x3 := dialFrom(t, x, addr)
	waitEvent(t, events, "replaced")
	requireClosed(t, x1, "x1, x's silent longest, was closed for x3")
	for _, c := range []*rawConn{x3, x2, y1} {
		c.send(t, getStatus)
		code, err := c.answer("GET")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code)
	}
}
