package web_test

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/web"
)

// TestHTTP2Attacks: over TLS the server speaks HTTP/2, where the host is
// the :authority pseudo-header; rebinding, cross-site changes and the
// hardening headers behave as over HTTP/1.1, and the page's own answers
// carry their content types and its CSP.
func TestHTTP2Attacks(t *testing.T) {
	certFile, keyFile, pool := writeSelfSigned(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	o, err := web.Options{Token: testToken, TLSCert: certFile, TLSKey: keyFile}.ForListener(ln.Addr())
	require.NoError(t, err)
	s, err := web.New(newFake(), o)
	require.NoError(t, err)
	hs := s.HTTPServer()
	go s.Serve(hs, ln)
	t.Cleanup(func() { hs.Close() })
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base := "https://" + ln.Addr().String()

	tests := []struct {
		name, method, path, authority, body string
		hdr                                 map[string]string
		code                                int
		contentType                         string
	}{
		{"page", "GET", "/", "", "", nil, 200, "text/html; charset=utf-8"},
		{"script", "GET", "/app.js", "", "", nil, 200, "text/javascript; charset=utf-8"},
		{"style", "GET", "/app.css", "", "", nil, 200, "text/css; charset=utf-8"},
		{"icon", "GET", "/favicon.svg", "", "", nil, 200, "image/svg+xml"},
		{"status", "GET", "/api/status", "", "", nil, 200, "application/json; charset=utf-8"},
		{"rebound :authority", "GET", "/api/status", "evil.example", "", nil, 421, "application/json; charset=utf-8"},
		{"rebound :authority with port", "GET", "/", "evil.example:443", "", nil, 421, "application/json; charset=utf-8"},
		{"cross-site change", "PUT", "/api/selection", "", `{"types":["fan"]}`, withHeaders(authJSON, "Origin", "https://evil.example"), 403, "application/json; charset=utf-8"},
		{"text/plain change", "PUT", "/api/selection", "", `{"types":["fan"]}`, withHeaders(authJSON, "Content-Type", "text/plain"), 415, "application/json; charset=utf-8"},
		{"token in the query", "PUT", "/api/selection?token=" + testToken, "", `{"types":["fan"]}`, withHeaders(authJSON, "Authorization", ""), 401, "application/json; charset=utf-8"},
		{"change", "PUT", "/api/selection", "", `{"types":["fan"]}`, authJSON, 200, "application/json; charset=utf-8"},
		{"token check", "GET", "/api/auth", "", "", authJSON, 204, ""},
		{"clean-up redirect", "GET", "/api//status", "", "", nil, 307, "text/html; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, err := http.NewRequest(tt.method, base+tt.path, body)
			require.NoError(t, err)
			if tt.authority != "" {
				req.Host = tt.authority
			}
			for k, v := range tt.hdr {
				req.Header.Set(k, v)
			}
			resp, err := client.Do(req)
			require.NoError(t, err)
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, 2, resp.ProtoMajor)
			require.Equal(t, tt.code, resp.StatusCode, string(b))
			require.Equal(t, tt.contentType, resp.Header.Get("Content-Type"))
			requireHardHeaders(t, resp, string(b))
			if tt.path == "/" {
				csp := resp.Header.Get("Content-Security-Policy")
				for _, d := range []string{"default-src 'none'", "script-src 'self'", "form-action 'none'", "base-uri 'none'"} {
					require.Contains(t, csp, d)
				}
				require.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
			}
		})
	}
}
