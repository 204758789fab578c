package web_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/web"
)

// rawConn is one client connection spoken to byte for byte.
type rawConn struct {
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.SetDeadline(time.Now().Add(20*time.Second))) // a failure bound
	return newRawConn(c)
}

func newRawConn(c net.Conn) *rawConn { return &rawConn{c, bufio.NewReader(c)} }

func (r *rawConn) send(t *testing.T, s string) {
	t.Helper()
	_, err := io.WriteString(r.c, s)
	require.NoError(t, err)
}

// answer reads one response and returns its status code (0 and the error
// when the server closed the connection instead).
func (r *rawConn) answer(method string) (int, error) {
	resp, err := http.ReadResponse(r.br, &http.Request{Method: method})
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// waitEvent waits for the listener to report ev (SetConnEvents), skipping
// others.
func waitEvent(t *testing.T, events <-chan string, ev string) {
	t.Helper()
	for {
		select {
		case got := <-events:
			if got == ev {
				return
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("the listener never reported %q", ev)
		}
	}
}

const getStatus = "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

// TestReplacingIdleNeverCutsARequestInFlight: when every connection slot
// is taken (of all clients, or of the one client), a new connection
// replaces the connection idle longest, but never one with a request in
// flight: one whose next request's headers are arriving (net/http still
// reports such a keep-alive connection idle: it says active only once the
// whole header is in), one whose body is arriving, one whose handler
// runs. A flood of new connections, each kept open after its answer, is
// served by replacing idle ones, and the request in flight is answered.
// (Before, the headers-arriving connection, idle longest, was closed for
// the first of the flood.)
func TestReplacingIdleNeverCutsARequestInFlight(t *testing.T) {
	const flood = 4
	tests := []struct {
		name string
		// start begins the request in flight on a, a connection that
		// has had one answer and is idle; finish completes it.
		start, finish string
		method        string
		hold          bool // the handler waits in the backend until released
	}{
		{name: "headers arriving", start: "GET /api/status HTTP/1.1\r\n", finish: "Host: 127.0.0.1\r\n\r\n", method: "GET"},
		{name: "body arriving", method: "PUT",
			start:  "PUT /api/selection HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer " + testToken + "\r\nContent-Length: 17\r\n\r\n{\"types\":",
			finish: "[\"fan\"]}"},
		{name: "handler running", start: "GET /api/config HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + testToken + "\r\n\r\n", method: "GET", hold: true},
	}
	for _, tt := range tests {
		for _, scope := range []string{"all clients", "one client"} {
			t.Run(tt.name+"/"+scope, func(t *testing.T) {
				fb := newFake()
				inHandler, release := make(chan struct{}, 1), make(chan struct{})
				holding := make(chan struct{})
				fb.configRead = func() {
					select {
					case <-holding:
						inHandler <- struct{}{}
						<-release
					default:
					}
				}
				s, err := web.New(fb, web.Options{Token: testToken, MaxConns: 2})
				require.NoError(t, err)
				events := make(chan string, 256)
				web.SetConnEvents(s, func(ev string) {
					select {
					case events <- ev:
					default:
					}
				})
				var addr string
				if scope == "one client" { // every connection from 127.0.0.1: its own bound of 2 is reached
					addr = serveOnLoopback(t, s)
				} else {
					addr = serveEachConnAClient(t, s)
				}
				a, b := dialRaw(t, addr), dialRaw(t, addr)
				for _, c := range []*rawConn{a, b} { // a idle longest, then b
					c.send(t, getStatus)
					code, err := c.answer("GET")
					require.NoError(t, err)
					require.Equal(t, http.StatusOK, code)
					waitEvent(t, events, "idle")
				}
				if tt.hold {
					close(holding)
				}
				a.send(t, tt.start)
				if tt.hold {
					<-inHandler
				} else {
					waitEvent(t, events, "busy")
				}
				for i := range flood {
					f := dialRaw(t, addr)
					f.send(t, getStatus)
					code, err := f.answer("GET")
					require.NoError(t, err, "flood connection %d", i)
					require.Equal(t, http.StatusOK, code, "flood connection %d", i)
					waitEvent(t, events, "replaced")
					waitEvent(t, events, "idle") // the next replaces this one
				}
				if tt.hold {
					close(release)
				}
				if tt.finish != "" {
					a.send(t, tt.finish)
				}
				code, err := a.answer(tt.method)
				require.NoError(t, err, "the request in flight was cut")
				require.Equal(t, http.StatusOK, code)
			})
		}
	}
}
