package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/web"
)

// TestReadsWithTheTokenNeverStarve: with every slot for changes held by
// slow writes (PUT /api/info waiting in the backend, one more waiting for
// a slot) and the share of requests without the token held by slow
// tokenless reads, a read with the token is still answered at once
// (status and /metrics), and a tokenless request gets 503 with
// Retry-After in the JSON error convention at once instead of waiting.
// Everything held is answered once released. (Before, one pool of
// MaxConns slots: the read waited behind them.)
func TestReadsWithTheTokenNeverStarve(t *testing.T) {
	const maxConns = 16 // slots: reads 4, without token 4, changes 8
	const changes, open = 8, 4
	fb := newFake()
	entered := make(chan string, 64)
	release := make(chan struct{})
	fb.infoPut = func() { entered <- "put"; <-release }
	holding := make(chan struct{}) // closed once the tokenless reads are in
	fb.configRead = func() {
		select {
		case <-holding:
			return
		default:
		}
		entered <- "read"
		<-release
	}
	s, err := web.New(fb, web.Options{Token: testToken, MaxConns: maxConns, MaxConnsPerClient: maxConns})
	require.NoError(t, err)
	base := "http://" + serveOnLoopback(t, s)
	tr := &http.Transport{MaxIdleConnsPerHost: maxConns}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 20 * time.Second} // a failure bound
	do := func(method, path, body string, token bool) (int, string, http.Header, error) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		if token {
			req.Header.Set("Authorization", "Bearer "+testToken)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header, err
	}

	type result struct {
		what string
		code int
		err  error
	}
	held := make(chan result, changes+1+open)
	for i := range changes + 1 { // the last waits for a slot
		go func() {
			code, _, _, err := do("PUT", "/api/info/power", fmt.Sprintf(`{"data_base64": "YWJj", "slot": %d}`, i%2), true)
			held <- result{"put", code, err}
		}()
	}
	for range open {
		go func() {
			code, _, _, err := do("GET", "/api/config", "", false)
			held <- result{"tokenless read", code, err}
		}()
	}
	got := map[string]int{}
	for got["put"] < changes || got["read"] < open {
		select {
		case e := <-entered:
			got[e]++
		case r := <-held:
			t.Fatalf("%s answered %d (%v) before it was released", r.what, r.code, r.err)
		case <-time.After(20 * time.Second):
			t.Fatalf("only %v of %d writes and %d tokenless reads reached the backend", got, changes, open)
		}
	}
	close(holding)

	code, body, h, err := do("GET", "/api/status", "", false)
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, code, "a tokenless request beyond its share: %s", body)
	require.Equal(t, "1", h.Get("Retry-After"))
	require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
	var e web.ErrorBody
	require.NoError(t, json.Unmarshal([]byte(body), &e), body)
	require.Contains(t, e.Error, "without the API token")

	for _, path := range []string{"/api/status", "/metrics", "/api/status"} {
		code, body, _, err := do("GET", path, "", true)
		require.NoError(t, err, "a read with the token waited behind writes and tokenless reads")
		require.Equal(t, http.StatusOK, code, "%s: %s", path, body)
	}

	// /metrics shows the limits enforced and the 503.
	code, body, _, err = do("GET", "/metrics", "", true)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	for _, line := range []string{`cmcsync_http_limit{limit="max_conns"} 16`, `cmcsync_http_limit{limit="max_conns_per_client"} 16`,
		`cmcsync_http_limit{limit="slots_reads"} 4`, `cmcsync_http_limit{limit="slots_changes"} 8`, `cmcsync_http_limit{limit="slots_without_token"} 4`,
		"cmcsync_http_busy_total 1"} {
		require.Contains(t, body, line+"\n")
	}

	close(release)
	for range changes + 1 + open {
		r := <-held
		require.NoError(t, r.err, r.what)
		require.Equal(t, http.StatusOK, r.code, r.what)
	}
}
