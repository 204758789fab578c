package web_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/web"
)

// TestSlowHeadersFromManyAddresses: clients on many addresses (each
// within its per-client bound) that take every connection slot by sending
// their headers slowly hold each slot for at most web.MinHeaderWait once
// the server is full, not net/http's 10 s: a normal client that comes
// then is answered within MinHeaderWait and a margin, each slow connection
// is closed ("slow-headers", logged), and a normal client's own slow
// headers while most slots are free are not cut at MinHeaderWait (the
// wait is MaxHeaderWait there). (Before the scaled header deadline, the
// normal client waited the attackers' full 10 s.) On a loaded machine the
// server may not have read an attacker's first bytes when the normal
// client comes; that connection is idle to it and the client replaces it,
// so the count of slow-header closes is the number of such events.
func TestSlowHeadersFromManyAddresses(t *testing.T) {
	const slots = 4
	var lc logCapture
	s, err := web.New(newFake(), web.Options{Token: testToken, MaxConns: slots, MaxConnsPerClient: 1, Logf: lc.logf})
	require.NoError(t, err)
	events := make(chan string, 256)
	web.SetConnEvents(s, func(ev string) {
		select {
		case events <- ev:
		default:
		}
	})
	addr := serveOnLoopback(t, s)

	// A normal client whose headers take 1.5 s while one slot is taken:
	// served (the wait is MaxHeaderWait below half the slots).
	slow := dialFrom(t, "127.0.0.9", addr)
	slow.send(t, "GET /api/status HTTP/1.1\r\n")
	time.Sleep(web.MinHeaderWait + 500*time.Millisecond) // past MinHeaderWait, no longer

	slow.send(t, "Host: 127.0.0.1\r\n\r\n")
	code, err := slow.answer("GET")
	require.NoError(t, err, "a slow client below half the slots is not cut at MinHeaderWait")
	require.Equal(t, http.StatusOK, code)
	slow.c.Close()

	// Every slot taken by slow headers, one connection per address.
	attackers := make([]*rawConn, slots)
	for i := range attackers {
		attackers[i] = dialFrom(t, fmt.Sprintf("127.0.0.%d", 10+i), addr)
		attackers[i].send(t, "GET /api/status HTTP/1.1\r\nX-Slow: 1\r\n")
	}
	start := time.Now()
	normal := dialFrom(t, "127.0.0.30", addr)
	require.NoError(t, normal.c.SetDeadline(start.Add(web.MinHeaderWait+3*time.Second)))
	normal.send(t, getStatus)
	code, err = normal.answer("GET")
	require.NoError(t, err, "answered before its deadline")
	require.Equal(t, http.StatusOK, code)
	require.Less(t, time.Since(start), web.MinHeaderWait+2*time.Second, "within MinHeaderWait and a margin, not the 10 s of net/http's header deadline")
	waitEvent(t, events, "slow-headers")
	for _, a := range attackers {
		requireClosed(t, a, "a connection whose headers were overdue is closed")
	}
	// Each attacker was closed for its overdue headers or, when the
	// server had not read a byte of it yet when the normal client came
	// (an idle connection, on a loaded machine), replaced by that client:
	// the counter counts the first kind exactly.
	closedSlow, replaced := 1, 0 // waitEvent took one slow-headers
	for drained := false; !drained; {
		select {
		case ev := <-events:
			switch ev {
			case "slow-headers":
				closedSlow++
			case "replaced":
				replaced++
			}
		default:
			drained = true
		}
	}
	require.Equal(t, slots, closedSlow+replaced, "every attacker closed once: %d for slow headers, %d replaced", closedSlow, replaced)
	require.LessOrEqual(t, replaced, 1, "only the normal client's connection replaces one")
	// A new deadline for the second request: the first one's (set before
	// the attack was answered) may have passed while the checks above ran
	// on a loaded machine.
	require.NoError(t, normal.c.SetDeadline(time.Now().Add(10*time.Second)))
	normal.send(t, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(normal.br, nil)
	require.NoError(t, err)
	metrics, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Contains(t, string(metrics), fmt.Sprintf("cmcsync_http_slow_headers_total %d\n", closedSlow), "counted")
	require.Contains(t, strings.Join(lc.all(), "\n"), "its request headers did not arrive within 1s (the header deadline while 4 of 4 connections are taken)")
}
