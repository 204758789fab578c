package web_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/internal/testcert"
	"github.com/cmcsync/cmcsync/web"
)

// logCapture is an Options.Logf that keeps each call as one entry, as the
// daemon's line logger writes each call as one line.
type logCapture struct {
	mu      sync.Mutex
	entries []string
}

func (c *logCapture) logf(format string, a ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = append(c.entries, fmt.Sprintf(format, a...))
}

func (c *logCapture) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.entries...)
}

func (c *logCapture) bytes() int {
	n := 0
	for _, e := range c.all() {
		n += len(e) + 1
	}
	return n
}

func newLoggingServer(t testing.TB) (*web.Server, *logCapture) {
	t.Helper()
	var lc logCapture
	s, err := web.New(newFake(), web.Options{Token: testToken, Logf: lc.logf})
	require.NoError(t, err)
	return s, &lc
}

// getRaw sends a GET whose path is exactly rawPath (escapes and all).
func getRaw(h http.Handler, rawPath string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", "/", nil)
	req.URL.RawPath = ""
	req.URL.Path = rawPath
	req.RequestURI = rawPath
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// A request path cannot forge log lines, is logged once, quoted and cut,
// and a huge one is refused before anything repeats it.
func TestLogEscapesAndBoundsRequests(t *testing.T) {
	tests := []struct {
		name     string
		path     string
		code     int
		maxBytes int // of everything logged for the request
	}{
		{"CR LF forging a line", "/api/x\r\nweb: 200 GET \"/api/status\" forged", http.StatusNotFound, 400},
		{"NUL and escape bytes", "/api/\x00\x1b[31mred", http.StatusNotFound, 400},
		{"long path under the URI limit", "/api/" + strings.Repeat("a", web.MaxURIBytes-10), http.StatusNotFound, 700},
		{"900 KB path", "/api/" + strings.Repeat("b", 900<<10), http.StatusRequestURITooLong, 1000},
		{"900 KB path of newlines", "/" + strings.Repeat("\n", 900<<10), http.StatusRequestURITooLong, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, lc := newLoggingServer(t)
			rec := getRaw(s, tt.path)
			require.Equal(t, tt.code, rec.Code, rec.Body.String())
			require.Less(t, rec.Body.Len(), 1000, "the answer does not echo the path")
			entries := lc.all()
			require.Len(t, entries, 1, "one line per refused request")
			line := entries[0]
			require.NotContains(t, line, "\n")
			require.NotContains(t, line, "\r")
			require.NotContains(t, line, "\x00")
			require.NotContains(t, line, "\x1b")
			require.LessOrEqual(t, lc.bytes(), tt.maxBytes)
			if tt.code == http.StatusNotFound {
				prefix := strconv.Quote(tt.path)[:12]
				require.Equal(t, 1, strings.Count(line, prefix), "the path is logged once, quoted: %s", line)
			}
		})
	}
}

// Many clients refused at once cannot flood the log: after a burst, lines
// are rate-limited.
func TestLogIsRateLimited(t *testing.T) {
	s, lc := newLoggingServer(t)
	const clients, each = 8, 500
	start := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := range each {
				getRaw(s, fmt.Sprintf("/api/%d/%d/%s", c, i, strings.Repeat("\r\nforged", 100)))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	lines := len(lc.all())
	t.Logf("%d refused requests from %d clients in %.2fs: %d log lines, %d bytes", clients*each, clients, elapsed, lines, lc.bytes())
	// 20 at once, then 2 a second (reqlog.go).
	require.LessOrEqual(t, float64(lines), 20+2*elapsed+1, "%d lines for %d requests in %.2fs", lines, clients*each, elapsed)
	require.Less(t, lc.bytes(), 600*lines+1)
}

// The http.Server from HTTPServer bounds the request line and headers:
// a 900 KB path never reaches the handler, so nothing is logged.
func TestHTTPServerBoundsRequests(t *testing.T) {
	s, lc := newLoggingServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	hs := s.HTTPServer()
	require.Equal(t, web.MaxHeaderBytes, hs.MaxHeaderBytes)
	require.NotZero(t, hs.ReadHeaderTimeout)
	require.NotZero(t, hs.ReadTimeout)
	go s.Serve(hs, ln)
	t.Cleanup(func() { hs.Close() })
	base := "http://" + ln.Addr().String()

	resp, err := http.Get(base + "/api/" + strings.Repeat("c", 900<<10))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)

	req, err := http.NewRequest("GET", base+"/api/status", nil)
	require.NoError(t, err)
	req.Header.Set("X-Pad", strings.Repeat("d", web.MaxHeaderBytes+4096))
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)

	resp, err = http.Get(base + "/api/status")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "the server still answers")
	require.Empty(t, lc.all(), "oversized requests are refused before the handler logs them")
}

// TestServeBoundsConnections: Serve serves at most Options.MaxConns
// connections at once: with the bound held by clients that send nothing,
// another client waits (unanswered) until one of them closes, then is
// served. Without a bound, thousands of idle connections (some 15 KB of
// the server's memory each) could exhaust a CMC.
func TestServeBoundsConnections(t *testing.T) {
	s, err := web.New(newFake(), web.Options{Token: testToken, MaxConns: 2})
	require.NoError(t, err)
	addr := serveEachConnAClient(t, s)
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		held = append(held, c)
	}
	answered := make(chan int, 1)
	go func() {
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
		resp, err := client.Get("http://" + addr + "/api/status")
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	select {
	case code := <-answered:
		t.Fatalf("a third connection was served (%d) while two held the bound of 2", code)
	case <-time.After(500 * time.Millisecond):
	}
	held[0].Close()
	select {
	case code := <-answered:
		require.Equal(t, http.StatusOK, code)
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting client was not served after a connection closed")
	}
}

// An oversized body is cut at MaxBodyBytes and refused.
func TestBodyLimit(t *testing.T) {
	s, err := web.New(newFake(), web.Options{Token: testToken, MaxBodyBytes: 64})
	require.NoError(t, err)
	code, body, _ := do(s, "PUT", "/api/selection", `{"types":["power"]}`+strings.Repeat(" ", 64), authJSON)
	require.Equal(t, http.StatusRequestEntityTooLarge, code)
	require.Contains(t, body, "larger than 64 bytes")
}

func TestForListener(t *testing.T) {
	tcp := func(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 8080} }
	withTLS := web.Options{Token: testToken, TLSCert: "cert.pem", TLSKey: "key.pem"}
	tests := []struct {
		name     string
		addr     net.Addr
		opts     web.Options
		loopback bool
		err      error
	}{
		{"IPv4 loopback", tcp("127.0.0.1"), web.Options{Token: testToken}, true, nil},
		{"other IPv4 loopback", tcp("127.0.0.2"), web.Options{Token: testToken}, true, nil},
		{"IPv6 loopback", tcp("::1"), web.Options{Token: testToken}, true, nil},
		{"unix socket", &net.UnixAddr{Name: "/run/cmcsync.sock", Net: "unix"}, web.Options{Token: testToken}, true, nil},
		{"all IPv4 addresses", tcp("0.0.0.0"), web.Options{Token: testToken}, false, web.ErrNeedTLS},
		{"all IPv6 addresses", tcp("::"), web.Options{Token: testToken}, false, web.ErrNeedTLS},
		{"LAN address", tcp("192.0.2.7"), web.Options{Token: testToken}, false, web.ErrNeedTLS},
		{"LAN address, key only", tcp("192.0.2.7"), web.Options{Token: testToken, TLSKey: "key.pem"}, false, web.ErrNeedTLS},
		{"LAN address with TLS", tcp("192.0.2.7"), withTLS, false, nil},
		{"all addresses with TLS", tcp("0.0.0.0"), withTLS, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.loopback, web.IsLoopback(tt.addr))
			o, err := tt.opts.ForListener(tt.addr)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				require.ErrorContains(t, err, "127.0.0.1", "the error says how to stay local")
				return
			}
			require.NoError(t, err)
			if tt.loopback {
				require.Equal(t, web.LoopbackHosts, o.AllowedHosts)
				require.False(t, o.RequireTokenForReads)
			} else {
				require.Empty(t, o.AllowedHosts)
				require.True(t, o.RequireTokenForReads, "reads need the token off loopback")
			}
		})
	}
}

// Every read needs the token when RequireTokenForReads is set; the page's
// own files stay open so it can ask for the token.
func TestRequireTokenForReads(t *testing.T) {
	s, err := web.New(newFake(), web.Options{Token: testToken, RequireTokenForReads: true})
	require.NoError(t, err)
	bearer := map[string]string{"Authorization": "Bearer " + testToken}
	for _, path := range []string{"/api/status", "/api/types", "/api/selection", "/api/config", "/api/events", "/api/rounds", "/metrics"} {
		t.Run(path, func(t *testing.T) {
			code, body, hdr := do(s, "GET", path, "", nil)
			require.Equal(t, http.StatusUnauthorized, code, body)
			require.Equal(t, `Bearer realm="cmcsync"`, hdr.Get("WWW-Authenticate"))
			code, _, _ = do(s, "GET", path, "", map[string]string{"Authorization": "Bearer wrong-token-0123456789"})
			require.Equal(t, http.StatusUnauthorized, code)
			code, body, _ = do(s, "GET", path, "", bearer)
			require.Equal(t, http.StatusOK, code, body)
		})
	}
	for _, path := range []string{"/", "/app.js", "/app.css", "/favicon.svg"} {
		code, _, _ := do(s, "GET", path, "", nil)
		require.Equal(t, http.StatusOK, code, path)
	}
	open, _ := newServer(t)
	code, _, _ := do(open, "GET", "/api/status", "", nil)
	require.Equal(t, http.StatusOK, code, "reads stay open by default (loopback)")
}

// writeSelfSigned writes a self-signed certificate for 127.0.0.1 and
// localhost and its key (internal/testcert), and returns their paths and a
// pool trusting it.
func writeSelfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	certFile, keyFile, pool, err := testcert.Write(t.TempDir())
	require.NoError(t, err)
	return certFile, keyFile, pool
}

// A server on all addresses, as the daemon wires it: ForListener demands
// TLS, the server speaks HTTPS only, and reads need the token.
func TestTLSOffLoopback(t *testing.T) {
	certFile, keyFile, pool := writeSelfSigned(t)
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })

	_, err = web.Options{Token: testToken}.ForListener(ln.Addr())
	require.ErrorIs(t, err, web.ErrNeedTLS)

	o, err := web.Options{Token: testToken, TLSCert: certFile, TLSKey: keyFile}.ForListener(ln.Addr())
	require.NoError(t, err)
	s, err := web.New(newFake(), o)
	require.NoError(t, err)
	require.Equal(t, "https", s.Scheme())
	hs := s.HTTPServer()
	served := make(chan error, 1)
	go func() { served <- s.Serve(hs, ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, hs.Shutdown(ctx))
		require.ErrorIs(t, <-served, http.ErrServerClosed)
	})

	port := ln.Addr().(*net.TCPAddr).Port
	base := fmt.Sprintf("https://127.0.0.1:%d", port)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(path, token string) (int, string) {
		req, err := http.NewRequest("GET", base+path, nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	code, body := get("/", "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `id="explanation"`)
	code, _ = get("/api/status", "")
	require.Equal(t, http.StatusUnauthorized, code)
	code, _ = get("/metrics", "")
	require.Equal(t, http.StatusUnauthorized, code)
	code, body = get("/api/status", testToken)
	require.Equal(t, http.StatusOK, code, body)

	req, err := http.NewRequest("PUT", base+"/api/selection", strings.NewReader(`{"types":["fan"]}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// Plain HTTP gets no API answer.
	resp, err = http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/status", port))
	if err == nil {
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	}
	// A client that does not trust the certificate is refused.
	_, err = http.Get(base + "/")
	var unknownAuthority x509.UnknownAuthorityError
	require.True(t, errors.As(err, &unknownAuthority), "%v", err)
}

func TestNewRefusesBadTLSFiles(t *testing.T) {
	certFile, keyFile, _ := writeSelfSigned(t)
	otherCert, _, _ := writeSelfSigned(t)
	missing := filepath.Join(t.TempDir(), "missing.pem")
	tests := []struct {
		name, cert, key, want string
	}{
		{"cert only", certFile, "", "both a certificate file and a key file"},
		{"key only", "", keyFile, "both a certificate file and a key file"},
		{"missing cert", missing, keyFile, "load the TLS certificate"},
		{"key of another cert", otherCert, keyFile, "the key must match the certificate"},
		{"swapped", keyFile, certFile, "load the TLS certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := web.New(newFake(), web.Options{Token: testToken, TLSCert: tt.cert, TLSKey: tt.key})
			require.ErrorContains(t, err, tt.want)
		})
	}
	s, err := web.New(newFake(), web.Options{Token: testToken})
	require.NoError(t, err)
	require.Equal(t, "http", s.Scheme())
}

// serveOnLoopback serves s (its HTTPServer, through Serve) on a loopback
// port until the test ends and returns the address.
func serveOnLoopback(t *testing.T, s *web.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	hs := s.HTTPServer()
	go s.Serve(hs, ln)
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String()
}

// serveEachConnAClient is serveOnLoopback with every connection counted as
// a client of its own: its remote address is reported as 10.0.x.y, from
// its source port. Tests of the bound on all connections use it, which
// one loopback client's own bound (Options.MaxConnsPerClient) would
// otherwise reach first.
func serveEachConnAClient(t *testing.T, s *web.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	hs := s.HTTPServer()
	go s.Serve(hs, ownClients{ln})
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String()
}

type ownClients struct{ net.Listener }

func (l ownClients) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	port := c.RemoteAddr().(*net.TCPAddr).Port
	return ownClientConn{c, &net.TCPAddr{IP: net.IPv4(10, 0, byte(port>>8), byte(port)), Port: port}}, nil
}

type ownClientConn struct {
	net.Conn
	remote net.Addr
}

func (c ownClientConn) RemoteAddr() net.Addr { return c.remote }
