package web_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/web"
)

// loopbackServer runs a Server as the daemon does on 127.0.0.1 (ForListener,
// HTTPServer, Serve) and returns its address and log.
func loopbackServer(t *testing.T) (string, *logCapture) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var lc logCapture
	o, err := web.Options{Token: testToken, Logf: lc.logf}.ForListener(ln.Addr())
	require.NoError(t, err)
	s, err := web.New(newFake(), o)
	require.NoError(t, err)
	hs := s.HTTPServer()
	go s.Serve(hs, ln)
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String(), &lc
}

// rawExchange writes req byte for byte to addr and reads one response.
func rawExchange(t *testing.T, addr, req string) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	_, err = io.WriteString(c, req)
	require.NoError(t, err)
	method, _, _ := strings.Cut(req, " ")
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	require.NoError(t, err, "request %q", req)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	return resp, string(b)
}

// requireHardHeaders checks the headers every answer of the Server carries
// and that an error answer is the API's JSON error.
func requireHardHeaders(t *testing.T, resp *http.Response, body string) {
	t.Helper()
	h := resp.Header
	require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
	require.Equal(t, "DENY", h.Get("X-Frame-Options"))
	require.Contains(t, h.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	require.Equal(t, "no-store", h.Get("Cache-Control"))
	require.Empty(t, h.Get("Access-Control-Allow-Origin"), "no CORS: other origins may not read answers")
	require.NotContains(t, body, testToken)
	for k, vs := range h {
		for _, v := range vs {
			require.NotContains(t, v, testToken, "header %s", k)
		}
	}
	if resp.StatusCode >= 400 && resp.Request.Method != http.MethodHead {
		require.Contains(t, h.Get("Content-Type"), "application/json", body)
		var e web.ErrorBody
		require.NoError(t, json.Unmarshal([]byte(body), &e), body)
		require.NotEmpty(t, e.Error)
	}
}

// TestRawRequestAttacks sends hand-made HTTP/1.1 requests as an attacker
// would: DNS rebinding through Host and absolute-form request targets,
// method tricks, encoded and traversing paths, tokens where they do not
// belong. Each gets the documented refusal, the hardening headers, and no
// echo of the token.
func TestRawRequestAttacks(t *testing.T) {
	addr, lc := loopbackServer(t)
	ctJSON := "Content-Type: application/json\r\n"
	auth := "Authorization: Bearer " + testToken + "\r\n"
	sel := `{"types":["power"]}`
	put := func(path, hdr, body string) string {
		return "PUT " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + hdr + "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	}
	get := func(target, host, hdr string) string {
		return "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n" + hdr + "\r\n"
	}
	tests := []struct {
		name, req string
		code      int
		location  string // for a redirect: the exact Location
	}{
		// DNS rebinding
		{"rebound Host", get("/api/status", "evil.example", ""), 421, ""},
		{"rebound Host with port", get("/api/status", "evil.example:8080", ""), 421, ""},
		{"rebound Host on the page", get("/", "evil.example", ""), 421, ""},
		{"Host with a loopback prefix", get("/api/status", "127.0.0.1.nip.io", ""), 421, ""},
		{"Host with userinfo", get("/api/status", "127.0.0.1@evil.example", ""), 400, ""}, // net/http: malformed Host, plain text
		{"absolute-form target naming another host", get("http://evil.example/api/status", "127.0.0.1", ""), 421, ""},
		{"absolute-form target naming loopback", get("http://127.0.0.1/api/status", "127.0.0.1", ""), 200, ""},
		{"forwarding headers naming loopback", get("/api/status", "evil.example", "X-Forwarded-Host: 127.0.0.1\r\nForwarded: host=127.0.0.1\r\nX-Forwarded-For: 127.0.0.1\r\nX-Original-Host: localhost\r\n"), 421, ""},
		{"second Host header", get("/api/status", "evil.example", "Host: 127.0.0.1\r\n"), 400, ""},
		{"HTTP/1.0 without Host", "GET /api/status HTTP/1.0\r\n\r\n", 421, ""},
		// Tokens where they do not belong
		{"token in the query", put("/api/selection?token="+testToken+"&access_token="+testToken, ctJSON, sel), 401, ""},
		{"token in a cookie", put("/api/selection", ctJSON+"Cookie: token="+testToken+"; api-token="+testToken+"\r\n", sel), 401, ""},
		{"token in a custom header", put("/api/selection", ctJSON+"X-Api-Token: "+testToken+"\r\n", sel), 401, ""},
		{"token without scheme", put("/api/selection", ctJSON+"Authorization: "+testToken+"\r\n", sel), 401, ""},
		{"token as Basic password", put("/api/selection", ctJSON+"Authorization: Basic "+testToken+"\r\n", sel), 401, ""},
		{"token prefix", put("/api/selection", ctJSON+"Authorization: Bearer "+testToken[:len(testToken)-1]+"\r\n", sel), 401, ""},
		{"token and more", put("/api/selection", ctJSON+"Authorization: Bearer "+testToken+"x\r\n", sel), 401, ""},
		{"empty bearer", put("/api/selection", ctJSON+"Authorization: Bearer \r\n", sel), 401, ""},
		{"unicode token", put("/api/selection", ctJSON+"Authorization: Bearer "+strings.Repeat("é", 20)+"\r\n", sel), 401, ""},
		{"12 KB token", put("/api/selection", ctJSON+"Authorization: Bearer "+strings.Repeat("t", 12<<10)+"\r\n", sel), 401, ""},
		{"wrong token first of two headers", put("/api/selection", ctJSON+"Authorization: Bearer wrong-token-0123456789ab\r\n"+auth, sel), 401, ""},
		{"right token first of two headers", put("/api/selection", ctJSON+auth+"Authorization: Bearer wrong-token-0123456789ab\r\n", sel), 401, ""},
		{"right token twice", put("/api/selection", ctJSON+auth+auth, sel), 401, ""},
		{"lower-case scheme", put("/api/selection", ctJSON+"Authorization: bearer "+testToken+"\r\n", sel), 200, ""},
		// CSRF
		{"cross-site Origin", put("/api/selection", ctJSON+auth+"Origin: http://evil.example\r\n", sel), 403, ""},
		{"null Origin", put("/api/selection", ctJSON+auth+"Origin: null\r\n", sel), 403, ""},
		{"Origin of another local port", put("/api/selection", ctJSON+auth+"Origin: http://127.0.0.1:3000\r\n", sel), 403, ""},
		{"Sec-Fetch-Site same-site", put("/api/selection", ctJSON+auth+"Sec-Fetch-Site: same-site\r\n", sel), 403, ""},
		{"Referer of another site, no Origin (not a browser)", put("/api/selection", ctJSON+auth+"Referer: http://evil.example/\r\n", sel), 200, ""},
		{"Sec-Fetch-Site cross-site", put("/api/selection", ctJSON+auth+"Sec-Fetch-Site: cross-site\r\n", sel), 403, ""},
		{"text/plain body", put("/api/selection", "Content-Type: text/plain\r\n"+auth, sel), 415, ""},
		{"form body", put("/api/selection", "Content-Type: application/x-www-form-urlencoded\r\n"+auth, "types=power"), 415, ""},
		{"multipart body", put("/api/selection", "Content-Type: multipart/form-data; boundary=x\r\n"+auth, sel), 415, ""},
		{"no Content-Type", put("/api/selection", auth, sel), 415, ""},
		{"json look-alike type", put("/api/selection", "Content-Type: application/jsonx\r\n"+auth, sel), 415, ""},
		{"json with charset", put("/api/selection", "Content-Type: application/json; charset=utf-8\r\n"+auth, sel), 200, ""},
		// Smuggling: net/http refuses ambiguous framing (plain text)
		{"two Content-Lengths", "PUT /api/selection HTTP/1.1\r\nHost: 127.0.0.1\r\n" + ctJSON + auth + "Content-Length: 19\r\nContent-Length: 5\r\n\r\n" + sel, 400, ""},
		{"chunked and Content-Length (RFC 9112: chunked wins)", "PUT /api/selection HTTP/1.1\r\nHost: 127.0.0.1\r\n" + ctJSON + auth + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n13\r\n" + sel + "\r\n0\r\n\r\n", 200, ""},
		{"unknown Transfer-Encoding", "PUT /api/selection HTTP/1.1\r\nHost: 127.0.0.1\r\n" + ctJSON + auth + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501, ""},
		{"gzip body", put("/api/selection", ctJSON+auth+"Content-Encoding: gzip\r\n", "\x1f\x8b\x08\x00"), 400, ""},
		// Many overlapping ranges of a page file (net/http ignores them)
		{"500 ranges of the script", get("/app.js", "127.0.0.1", "Range: bytes="+strings.Repeat("0-,", 499)+"0-\r\n"), 200, ""},
		// Protocol tricks
		{"HTTP2 prior knowledge on plain HTTP (no h2c)", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 421, ""},
		{"h2c upgrade", get("/api/status", "127.0.0.1", "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"), 200, ""},
		// Method confusion
		{"OPTIONS * (server-wide)", "OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 404, ""},
		{"CONNECT", "CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 404, ""},
		{"TRACE", "TRACE / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth + "\r\n", 405, ""},
		{"OPTIONS on a change", "OPTIONS /api/sync HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\nAccess-Control-Request-Method: POST\r\n\r\n", 405, ""},
		{"method override on GET", get("/api/sync", "127.0.0.1", "X-HTTP-Method-Override: POST\r\nX-Method-Override: POST\r\n"+auth), 405, ""},
		{"method override on POST", "POST /api/selection HTTP/1.1\r\nHost: 127.0.0.1\r\nX-HTTP-Method-Override: PUT\r\n" + ctJSON + auth + "Content-Length: 19\r\n\r\n" + sel, 405, ""},
		{"lower-case method", "put /api/selection HTTP/1.1\r\nHost: 127.0.0.1\r\n" + ctJSON + auth + "Content-Length: 19\r\n\r\n" + sel, 405, ""},
		{"HEAD on a change", "HEAD /api/sync HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth + "\r\n", 405, ""},
		// Paths
		{"encoded dot-dot", get("/%2e%2e/%2e%2e/etc/passwd", "127.0.0.1", ""), 404, ""},
		{"dot-dot to source", get("/../web/server.go", "127.0.0.1", ""), 307, "/web/server.go"},
		{"encoded slash", get("/api%2Fstatus", "127.0.0.1", ""), 404, ""},
		{"backslashes", get("/..\\..\\app.js", "127.0.0.1", ""), 404, ""},
		{"NUL", get("/app.js%00.html", "127.0.0.1", ""), 404, ""},
		{"static folder", get("/static/index.html", "127.0.0.1", ""), 404, ""},
		{"index.html", get("/index.html", "127.0.0.1", ""), 404, ""},
		{"double slash", get("//app.js", "127.0.0.1", ""), 307, "/app.js"},
		{"double slash to another host", get("//evil.example/", "127.0.0.1", ""), 307, "/evil.example/"},
		{"encoded double slash to another host", get("/%2F%2Fevil.example/", "127.0.0.1", ""), 404, ""},
		{"dot then backslash to another host", get("/./\\evil.example/", "127.0.0.1", ""), 307, "/%255Cevil.example/"},
		{"dot then encoded backslash", get("/./%5Cevil.example/", "127.0.0.1", ""), 307, "/%255Cevil.example/"},
		{"dot-dot then double slash", get("/x/..//evil.example", "127.0.0.1", ""), 307, "/evil.example"},
		{"double slash in the API", get("/api//status", "127.0.0.1", ""), 307, "/api/status"},
		{"dot segment in the API", get("/api/./status", "127.0.0.1", ""), 307, "/api/status"},
		{"encoded type traversing", put("/api/info/..%2Fpower", ctJSON+auth, `{"data_base64":"AA=="}`), 400, ""},
		{"encoded letter", get("/api/%73tatus", "127.0.0.1", ""), 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := rawExchange(t, addr, tt.req)
			require.Equal(t, tt.code, resp.StatusCode, body)
			loc := resp.Header.Get("Location")
			require.Equal(t, tt.location, loc)
			if loc != "" { // a path of this server: no "//host" or "/\host" a browser would follow elsewhere
				require.True(t, strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") && !strings.HasPrefix(loc, "/\\"), loc)
			}
			if !strings.Contains(resp.Header.Get("Content-Type"), "json") && resp.StatusCode >= 400 {
				require.Contains(t, []int{400, 501}, resp.StatusCode, "only net/http's own refusals are plain text: %s", body)
				return
			}
			if resp.StatusCode == http.StatusBadRequest && strings.Contains(body, "malformed Host") {
				return // net/http's own plain-text answer (docs/API.md)
			}
			requireHardHeaders(t, resp, body)
		})
	}
	for _, line := range lc.all() {
		require.NotContains(t, line, testToken, "the log holds no token")
	}
}
