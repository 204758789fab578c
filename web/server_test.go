package web_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/web"
)

const testToken = "test-token-0123456789abcdef"

func newServer(t testing.TB) (*web.Server, *fakeBackend) {
	t.Helper()
	fb := newFake()
	s, err := web.New(fb, web.Options{Token: testToken})
	require.NoError(t, err)
	return s, fb
}

// do sends one request to h and returns the response code and body.
func do(h http.Handler, method, path, body string, hdr map[string]string) (int, string, http.Header) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, "http://127.0.0.1:8080"+path, rd)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String(), rec.Header()
}

// authJSON are the headers of a well-formed change from a client.
var authJSON = map[string]string{"Authorization": "Bearer " + testToken, "Content-Type": "application/json"}

func withHeaders(base map[string]string, kv ...string) map[string]string {
	m := map[string]string{}
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(m, kv[i])
		} else {
			m[kv[i]] = kv[i+1]
		}
	}
	return m
}

func configJSON(t testing.TB, h http.Handler) string {
	t.Helper()
	code, body, _ := do(h, "GET", "/api/config", "", nil)
	require.Equal(t, http.StatusOK, code)
	return body
}

func TestNewRequiresToken(t *testing.T) {
	_, err := web.New(newFake(), web.Options{})
	require.ErrorContains(t, err, "token")
	_, err = web.New(nil, web.Options{Token: testToken})
	require.Error(t, err)
}

func TestReads(t *testing.T) {
	s, _ := newServer(t)
	tests := []struct {
		path, contentType, contains string
	}{
		{"/", "text/html", `id="explanation"`},
		{"/app.js", "javascript", "explain("},
		{"/app.css", "text/css", ".explanation"},
		{"/favicon.svg", "image/svg+xml", "<svg"},
		{"/api/status", "application/json", `"active": "primary"`},
		{"/api/types", "application/json", `"why_backup"`},
		{"/api/selection", "application/json", `"event-log"`},
		{"/api/config", "application/json", `"interval_seconds": 30`},
		{"/api/events", "application/json", `[]`},
		{"/api/rounds", "application/json", `[]`},
		{"/metrics", "text/plain", "cmcsync_rounds_total 0"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			code, body, hdr := do(s, "GET", tt.path, "", nil)
			require.Equal(t, http.StatusOK, code, body)
			require.Contains(t, hdr.Get("Content-Type"), tt.contentType)
			require.Contains(t, body, tt.contains)
			require.Contains(t, hdr.Get("Content-Security-Policy"), "default-src 'none'")
		})
	}
}

func TestUnknownEndpoint(t *testing.T) {
	s, _ := newServer(t)
	code, body, _ := do(s, "GET", "/api/nope", "", nil)
	require.Equal(t, http.StatusNotFound, code)
	var e web.ErrorBody
	require.NoError(t, json.Unmarshal([]byte(body), &e))
	require.Contains(t, e.Error, "no such API endpoint")
}

// Every change refuses requests without the right token, from another
// site, or not in JSON, and changes nothing.
func TestChangesRefused(t *testing.T) {
	changes := []struct{ method, path, body string }{
		{"PUT", "/api/config", `{"types":["power"],"interval_seconds":10,"threshold_seconds":0.1,"verify":false,"group_size":0,"retry_at_once":false}`},
		{"PUT", "/api/selection", `{"types":["power"]}`},
		{"POST", "/api/sync", `{}`},
		{"POST", "/api/upgrade", `{"choice":"keep-upgraded"}`},
		{"POST", "/api/simulate/upgrade", `{}`},
	}
	refusals := []struct {
		name    string
		headers map[string]string
		code    int
		want    string
	}{
		{"no token", withHeaders(authJSON, "Authorization", ""), 401, "API token"},
		{"wrong token", withHeaders(authJSON, "Authorization", "Bearer wrong-token-0123456789"), 401, "API token"},
		{"token prefix", withHeaders(authJSON, "Authorization", "Bearer "+testToken[:10]), 401, "API token"},
		{"basic scheme", withHeaders(authJSON, "Authorization", "Basic "+testToken), 401, "API token"},
		{"cross-site fetch", withHeaders(authJSON, "Sec-Fetch-Site", "cross-site"), 403, "cross-site"},
		{"same-site other origin", withHeaders(authJSON, "Sec-Fetch-Site", "same-site"), 403, "cross-site"},
		{"foreign origin", withHeaders(authJSON, "Origin", "http://evil.example"), 403, "cross-site"},
		{"form post", withHeaders(authJSON, "Content-Type", "application/x-www-form-urlencoded"), 415, "application/json"},
		{"multipart form", withHeaders(authJSON, "Content-Type", "multipart/form-data; boundary=x"), 415, "application/json"},
		{"text/plain", withHeaders(authJSON, "Content-Type", "text/plain"), 415, "application/json"},
		{"no content type", withHeaders(authJSON, "Content-Type", ""), 415, "application/json"},
	}
	for _, c := range changes {
		for _, r := range refusals {
			t.Run(c.path+"/"+r.name, func(t *testing.T) {
				s, fb := newServer(t)
				before := configJSON(t, s)
				code, body, hdr := do(s, c.method, c.path, c.body, r.headers)
				require.Equal(t, r.code, code, body)
				require.Contains(t, hdr.Get("Content-Type"), "application/json")
				var e web.ErrorBody
				require.NoError(t, json.Unmarshal([]byte(body), &e))
				require.Contains(t, e.Error, r.want)
				if code == 401 {
					require.Equal(t, `Bearer realm="cmcsync"`, hdr.Get("WWW-Authenticate"))
				}
				require.Equal(t, before, configJSON(t, s))
				require.Zero(t, fb.Status().Generation)
				require.Nil(t, fb.Status().Upgrade)
			})
		}
	}
}

// Same-origin page requests pass the cross-site check.
func TestSameOriginAllowed(t *testing.T) {
	s, _ := newServer(t)
	code, body, _ := do(s, "POST", "/api/sync", `{}`, withHeaders(authJSON, "Sec-Fetch-Site", "same-origin", "Origin", "http://127.0.0.1:8080"))
	require.Equal(t, http.StatusOK, code, body)
}

// TestBodyTooLarge: a body beyond the limit (64 KiB; for
// PUT /api/info/{type} the base64 of 4 MiB and a little more) is 413
// Content Too Large, in the JSON error convention, and changes nothing.
func TestBodyTooLarge(t *testing.T) {
	big := `{"types":["power"],"interval_seconds":10,"threshold_seconds":0.1,"verify":false,"group_size":0,"retry_at_once":false,"pad":"` + strings.Repeat("x", web.DefaultMaxBodyBytes) + `"}`
	tests := []struct{ name, method, path, body string }{
		{"config", "PUT", "/api/config", big},
		{"selection", "PUT", "/api/selection", `{"types":[` + strings.Repeat(`"power",`, 10000) + `"fan"]}`},
		{"sync", "POST", "/api/sync", `{}` + strings.Repeat(" ", web.DefaultMaxBodyBytes)},
		{"upgrade", "POST", "/api/upgrade", `{"choice":"keep-upgraded"}` + strings.Repeat(" ", web.DefaultMaxBodyBytes)},
		{"info", "PUT", "/api/info/power", `{"data_base64": "` + strings.Repeat("A", 6<<20) + `"}`},
		{"failback", "POST", "/api/failback", `{}` + strings.Repeat(" ", web.DefaultMaxBodyBytes)},
		{"simulate upgrade", "POST", "/api/simulate/upgrade", strings.Repeat(" ", web.DefaultMaxBodyBytes+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, fb := newServer(t)
			before := configJSON(t, s)
			code, body, _ := do(s, tt.method, tt.path, tt.body, authJSON)
			require.Equal(t, http.StatusRequestEntityTooLarge, code, body)
			var e web.ErrorBody
			require.NoError(t, json.Unmarshal([]byte(body), &e), body)
			require.Contains(t, e.Error, "request body is larger than")
			require.Equal(t, before, configJSON(t, s))
			require.Zero(t, fb.Status().Generation)
		})
	}
}

func TestBadBodies(t *testing.T) {
	tests := []struct {
		name, method, path, body, field, want string
	}{
		{"empty", "PUT", "/api/config", "", "", "empty"},
		{"truncated", "PUT", "/api/config", `{"types":["power"]`, "", "malformed"},
		{"not an object", "PUT", "/api/config", `[1,2]`, "", "want a JSON object"},
		{"syntax", "PUT", "/api/config", `{types:1}`, "", "malformed JSON"},
		{"unknown field", "PUT", "/api/config", `{"types":["power"],"interval_seconds":10,"threshold_seconds":1,"bogus":1}`, "bogus", "unknown field (known: group_size, interval_seconds, retry_at_once, threshold_seconds, types, verify)"},
		{"trailing data", "PUT", "/api/config", `{"types":["power"],"interval_seconds":10,"threshold_seconds":1} {}`, "", "extra data"},
		{"types missing", "PUT", "/api/config", `{"interval_seconds":10,"threshold_seconds":1}`, "types", "missing"},
		{"types wrong kind", "PUT", "/api/config", `{"types":"power","interval_seconds":10,"threshold_seconds":1}`, "types", "want a list of strings, not string"},
		{"types of numbers", "PUT", "/api/config", `{"types":[1],"interval_seconds":10,"threshold_seconds":1}`, "types", "want a string, not number"},
		{"unknown type", "PUT", "/api/config", `{"types":["power","coffee"],"interval_seconds":10,"threshold_seconds":1,"verify":false,"group_size":0,"retry_at_once":false}`, "types", `unknown information type "coffee"`},
		{"duplicate type", "PUT", "/api/config", `{"types":["fan","fan"],"interval_seconds":10,"threshold_seconds":1,"verify":false,"group_size":0,"retry_at_once":false}`, "types", "twice"},
		{"interval not a number", "PUT", "/api/config", `{"types":["power"],"interval_seconds":"soon","threshold_seconds":1}`, "interval_seconds", "want a number of seconds"},
		{"interval as a duration string", "PUT", "/api/config", `{"types":["power"],"interval_seconds":"10s","threshold_seconds":1}`, "interval_seconds", "want a number of seconds"},
		{"interval huge", "PUT", "/api/config", `{"types":["power"],"interval_seconds":1e300,"threshold_seconds":1}`, "interval_seconds", "1e+300 seconds is too large (at most 1e+09)"},
		{"old name", "PUT", "/api/config", `{"types":["power"],"interval":"10s","threshold_seconds":1}`, "interval", "unknown field"},
		{"interval zero", "PUT", "/api/config", `{"types":["power"],"interval_seconds":0,"threshold_seconds":1,"verify":false,"group_size":0,"retry_at_once":false}`, "interval_seconds", "between 1s and 24h (1 to 86400 seconds)"},
		{"interval too long", "PUT", "/api/config", `{"types":["power"],"interval_seconds":90000,"threshold_seconds":1,"verify":false,"group_size":0,"retry_at_once":false}`, "interval_seconds", "out of range"},
		{"threshold negative", "PUT", "/api/config", `{"types":["power"],"interval_seconds":10,"threshold_seconds":-0.005}`, "threshold_seconds", "-0.005 seconds is negative: give 0 or more"},
		{"interval beyond float64", "PUT", "/api/config", `{"types":["power"],"interval_seconds":1e400,"threshold_seconds":1}`, "interval_seconds", "1e400 seconds is too large"},
		{"threshold tiny", "PUT", "/api/config", `{"types":["power"],"interval_seconds":10,"threshold_seconds":0.001,"verify":false,"group_size":0,"retry_at_once":false}`, "threshold_seconds", "between 10ms"},
		{"group negative", "PUT", "/api/config", `{"types":["power"],"interval_seconds":10,"threshold_seconds":1,"verify":false,"group_size":-1,"retry_at_once":false}`, "group_size", "out of range"},
		{"group a fraction", "PUT", "/api/config", `{"types":["power"],"interval_seconds":10,"threshold_seconds":1,"group_size":1.5}`, "group_size", "want a whole number, not number 1.5"},
		{"group too big", "PUT", "/api/config", `{"types":["power"],"interval_seconds":10,"threshold_seconds":1,"verify":false,"group_size":7,"retry_at_once":false}`, "group_size", "up to 1 (the chosen types)"},
		{"group beyond the chosen types", "PUT", "/api/config", `{"types":["power","fan"],"interval_seconds":10,"threshold_seconds":1,"verify":false,"group_size":3,"retry_at_once":false}`, "group_size", "group size 3 is out of range: choose 0 (all chosen types every round) up to 2"},
		{"verify not bool", "PUT", "/api/config", `{"types":["power"],"interval_seconds":10,"threshold_seconds":1,"verify":"yes"}`, "verify", "want true or false, not string"},
		// PUT /api/config replaces the whole configuration: a member left out
		// or null would silently become its zero value (verify off).
		{"verify missing", "PUT", "/api/config", `{"types":["power"],"interval_seconds":10,"threshold_seconds":1,"group_size":0,"retry_at_once":false}`, "verify", "missing: PUT /api/config replaces the whole configuration"},
		{"group missing", "PUT", "/api/config", `{"types":["power"],"interval_seconds":10,"threshold_seconds":1,"verify":true,"retry_at_once":false}`, "group_size", "missing"},
		{"retry missing", "PUT", "/api/config", `{"types":["power"],"interval_seconds":10,"threshold_seconds":1,"verify":true,"group_size":0}`, "retry_at_once", "missing"},
		{"interval missing", "PUT", "/api/config", `{"types":["power"],"threshold_seconds":1,"verify":true,"group_size":0,"retry_at_once":false}`, "interval_seconds", "missing"},
		{"threshold missing", "PUT", "/api/config", `{"types":["power"],"interval_seconds":10}`, "threshold_seconds", "missing"},
		{"verify null", "PUT", "/api/config", `{"types":["power"],"interval_seconds":10,"threshold_seconds":1,"verify":null,"group_size":0,"retry_at_once":false}`, "verify", "want true or false, not null"},
		{"interval null", "PUT", "/api/config", `{"types":["power"],"interval_seconds":null,"threshold_seconds":1,"verify":true,"group_size":0,"retry_at_once":false}`, "interval_seconds", "not null"},
		{"types null", "PUT", "/api/config", `{"types":null,"interval_seconds":10,"threshold_seconds":1,"verify":true,"group_size":0,"retry_at_once":false}`, "types", "want a list of strings, not null"},
		{"info slot null", "PUT", "/api/info/asset", `{"data_base64":"AAAA","slot":null}`, "slot", "want a whole number, not null"},
		{"selection unknown", "PUT", "/api/selection", `{"types":["x"]}`, "types", "unknown information type"},
		{"selection null", "PUT", "/api/selection", `{"types":null}`, "types", "want a list of strings, not null"},
		{"selection missing", "PUT", "/api/selection", `{}`, "types", "missing"},
		// Strict decoding (docs/API.md, Security): encoding/json alone would
		// take each of these, the last duplicate or a case variant winning.
		{"duplicate member", "PUT", "/api/config", `{"types":["power"],"interval_seconds":10,"interval_seconds":1,"threshold_seconds":1}`, "interval_seconds", "listed twice"},
		{"duplicate selection", "PUT", "/api/selection", `{"types":["power"],"types":["fan"]}`, "types", "listed twice"},
		{"case variant", "PUT", "/api/config", `{"types":["power"],"Interval_Seconds":10,"threshold_seconds":1}`, "Interval_Seconds", `names are case-sensitive, write "interval_seconds"`},
		{"case variant after exact", "PUT", "/api/config", `{"types":["power"],"interval_seconds":10,"INTERVAL_SECONDS":20,"threshold_seconds":1}`, "INTERVAL_SECONDS", `write "interval_seconds"`},
		{"case variant selection", "PUT", "/api/selection", `{"Types":["power"]}`, "Types", `write "types"`},
		{"case variant choice", "POST", "/api/upgrade", `{"Choice":"keep-upgraded"}`, "Choice", `write "choice"`},
		{"escaped duplicate", "PUT", "/api/selection", `{"types":["power"],"\u0074ypes":["fan"]}`, "types", "listed twice"},
		{"nested duplicate", "PUT", "/api/selection", `{"types":[{"a":1,"a":2}]}`, "types", `lists "a" twice`},
		{"trailing garbage", "PUT", "/api/selection", `{"types":["power"]}x`, "", "extra data"},
		{"two objects", "POST", "/api/upgrade", `{"choice":"keep-upgraded"}{"choice":"restore-defaults"}`, "", "extra data"},
		{"string not an object", "PUT", "/api/selection", `"power"`, "", "want a JSON object, not a string"},
		// An empty selection is refused (docs/API.md, Config): a sync of
		// nothing is not a configuration.
		{"config types empty", "PUT", "/api/config", `{"types":[],"interval_seconds":10,"threshold_seconds":1,"verify":false,"group_size":0,"retry_at_once":false}`, "types", "select at least one information type"},
		{"selection empty", "PUT", "/api/selection", `{"types":[]}`, "types", "select at least one information type"},
		{"upgrade unknown choice", "POST", "/api/upgrade", `{"choice":"both"}`, "choice", "unknown choice"},
		{"upgrade choice a number", "POST", "/api/upgrade", `{"choice":1}`, "choice", "want a string, not number"}, // was "want a JSON web.UpgradeChoice"
		{"info slot a string", "PUT", "/api/info/asset", `{"data_base64":"AAAA","slot":"3"}`, "slot", "want a whole number, not string"},
		{"upgrade empty", "POST", "/api/upgrade", ``, "", "empty"},
		{"sync with fields", "POST", "/api/sync", `{"now":true}`, "now", "unknown field: send an empty object {} or no body"},
		{"sync garbage", "POST", "/api/sync", `nope`, "", "malformed"},
		// Input the backend cannot decode ("bad"): the member at fault is
		// named, as for a bad base64 or size.
		{"info input that does not decode", "PUT", "/api/info/power", `{"data_base64":"YmFk"}`, "data_base64", "data_base64: bad information input: does not decode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, fb := newServer(t)
			before := configJSON(t, s)
			code, body, _ := do(s, tt.method, tt.path, tt.body, authJSON)
			require.Equal(t, http.StatusBadRequest, code, body)
			var e web.ErrorBody
			require.NoError(t, json.Unmarshal([]byte(body), &e), body)
			require.Contains(t, e.Error, tt.want)
			require.Equal(t, tt.field, e.Field)
			require.Equal(t, before, configJSON(t, s))
			require.Zero(t, fb.Status().Generation)
		})
	}
}

func TestBackendRefusal(t *testing.T) {
	s, fb := newServer(t)
	fb.refuse = "threshold must be shorter than the interval"
	before := configJSON(t, s)
	code, body, _ := do(s, "PUT", "/api/config", `{"types":["fan"],"interval_seconds":2,"threshold_seconds":5,"verify":false,"group_size":0,"retry_at_once":false}`, authJSON)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, "threshold must be shorter")
	require.Equal(t, before, configJSON(t, s))
}

func TestConfigRoundTrip(t *testing.T) {
	s, fb := newServer(t)
	code, body, _ := do(s, "PUT", "/api/config", `{"types":["asset","power"],"interval_seconds":90,"threshold_seconds":0.75,"verify":false,"group_size":1,"retry_at_once":true}`, authJSON)
	require.Equal(t, http.StatusOK, code, body)
	var got web.Config
	require.NoError(t, json.Unmarshal([]byte(configJSON(t, s)), &got))
	require.Equal(t, web.Config{Types: []string{"asset", "power"}, Interval: web.Duration(90 * time.Second), Threshold: web.Duration(750 * time.Millisecond), GroupSize: 1, RetryAtOnce: true}, got)
	require.Equal(t, got, fb.Config())

	// A selection change keeps the rest of the configuration.
	code, body, _ = do(s, "PUT", "/api/selection", `{"types":["fan"]}`, authJSON)
	require.Equal(t, http.StatusOK, code, body)
	require.JSONEq(t, `{"types":["fan"]}`, body)
	got.Types = []string{"fan"}
	require.Equal(t, got, fb.Config())

	_, body, _ = do(s, "GET", "/api/selection", "", nil)
	require.JSONEq(t, `{"types":["fan"]}`, body)

	// A group size larger than the new selection falls back to "all".
	code, body, _ = do(s, "PUT", "/api/config", `{"types":["asset","power"],"interval_seconds":60,"threshold_seconds":1,"verify":true,"group_size":2,"retry_at_once":false}`, authJSON)
	require.Equal(t, http.StatusOK, code, body)
	code, body, _ = do(s, "PUT", "/api/selection", `{"types":["fan"]}`, authJSON)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, 0, fb.Config().GroupSize)
}

// TestSelectionDoesNotRevertConfig: PUT /api/selection changes only the
// types of the configuration it reads. A PUT /api/config answered while
// the selection's change was between its read and its write is not
// reverted by it: both end as if one ran after the other (before, the
// selection wrote back the interval it had read, losing the config's).
func TestSelectionDoesNotRevertConfig(t *testing.T) {
	s, fb := newServer(t)
	reading, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	fb.configRead = func() {
		once.Do(func() { // the selection's read of the configuration
			close(reading)
			<-release
		})
	}
	selDone := make(chan int)
	go func() {
		code, _, _ := do(s, "PUT", "/api/selection", `{"types":["fan"]}`, authJSON)
		selDone <- code
	}()
	<-reading
	cfgDone := make(chan int)
	go func() {
		code, _, _ := do(s, "PUT", "/api/config", `{"types":["power","fan"],"interval_seconds":600,"threshold_seconds":1,"verify":false,"group_size":0,"retry_at_once":true}`, authJSON)
		cfgDone <- code
	}()
	time.Sleep(100 * time.Millisecond) // the config's PUT runs now, unless it waits
	close(release)
	require.Equal(t, http.StatusOK, <-selDone)
	require.Equal(t, http.StatusOK, <-cfgDone)
	got := fb.Config()
	require.Equal(t, web.Duration(10*time.Minute), got.Interval, "the config's PUT was answered 200 and stays: %+v", got)
	require.False(t, got.Verify)
	require.True(t, got.RetryAtOnce)
}

func TestSyncNowAndMetrics(t *testing.T) {
	s, _ := newServer(t)
	for i := 1; i <= 3; i++ {
		code, body, _ := do(s, "POST", "/api/sync", "", authJSON) // empty body allowed
		require.Equal(t, http.StatusOK, code, body)
		var r web.Round
		require.NoError(t, json.Unmarshal([]byte(body), &r))
		require.Equal(t, uint64(i), r.Generation)
	}
	s.RecordRound(web.Round{Generation: 3, Outcome: "nothing-changed", DurationSeconds: 2})
	_, body, _ := do(s, "GET", "/api/rounds", "", nil)
	var rounds []web.Round
	require.NoError(t, json.Unmarshal([]byte(body), &rounds))
	require.Len(t, rounds, 4)
	require.Equal(t, "nothing-changed", rounds[3].Outcome)

	_, body, _ = do(s, "GET", "/api/status", "", nil)
	var st web.Status
	require.NoError(t, json.Unmarshal([]byte(body), &st))
	require.Equal(t, uint64(3), st.Generation)
	require.True(t, st.CanSimulateUpgrade)
	for _, ts := range st.Types {
		require.Equal(t, "synced", ts.State, ts.Name)
	}

	_, body, _ = do(s, "GET", "/api/events?limit=2", "", nil)
	var evs []web.Event
	require.NoError(t, json.Unmarshal([]byte(body), &evs))
	require.Len(t, evs, 2)
	require.Equal(t, uint64(3), evs[0].Generation, "newest first")
	code, _, _ := do(s, "GET", "/api/events?limit=zero", "", nil)
	require.Equal(t, http.StatusBadRequest, code)
	// A mistyped or repeated parameter is refused, not ignored for the
	// default.
	for q, want := range map[string]string{
		"limt=5":          `"limt: unknown query parameter (known: limit)"`,
		"limit=5&limit=6": `"limit: given more than once"`,
		"limit=5&x=1":     `"x: unknown query parameter (known: limit)"`,
		"limit=%zz":       `"malformed query: want ?limit=N"`,
	} {
		code, body, _ := do(s, "GET", "/api/events?"+q, "", nil)
		require.Equal(t, http.StatusBadRequest, code, q)
		require.Contains(t, body, want, q)
	}

	_, body, _ = do(s, "GET", "/metrics", "", nil)
	for _, want := range []string{
		"cmcsync_rounds_total 3",
		"cmcsync_bytes_written_total 4608",
		"cmcsync_round_duration_seconds_count 4",
		`cmcsync_round_duration_seconds_bucket{le="4.096"} 4`,
		`cmcsync_round_duration_seconds_bucket{le="1.024"} 3`,
		"cmcsync_generation 3",
		"cmcsync_failovers_total 0",
		"cmcsync_purges_total 0",
		"cmcsync_round_failures_total 0",
		"cmcsync_restore_pending 0",
	} {
		require.Contains(t, body, want)
	}
}

func TestRoundHistoryBounded(t *testing.T) {
	s, err := web.New(newFake(), web.Options{Token: testToken, RoundHistory: 5})
	require.NoError(t, err)
	for i := range 12 {
		s.RecordRound(web.Round{Generation: uint64(i)})
	}
	r := s.Rounds()
	require.Len(t, r, 5)
	require.Equal(t, uint64(7), r[0].Generation)
	require.Equal(t, uint64(11), r[4].Generation)
}

func TestUpgradeChoices(t *testing.T) {
	s, fb := newServer(t)
	code, body, _ := do(s, "POST", "/api/upgrade", `{"choice":"keep-upgraded"}`, authJSON)
	require.Equal(t, http.StatusConflict, code, body)
	require.Contains(t, body, "no image upgrade is pending")

	for _, choice := range []web.UpgradeChoice{web.KeepUpgraded, web.RestoreDefaults} {
		code, body, _ = do(s, "POST", "/api/simulate/upgrade", "{}", authJSON)
		require.Equal(t, http.StatusOK, code, body)
		var st web.Status
		require.NoError(t, json.Unmarshal([]byte(body), &st))
		require.NotNil(t, st.Upgrade)

		code, body, _ = do(s, "POST", "/api/upgrade", `{"choice":"`+string(choice)+`"}`, authJSON)
		require.Equal(t, http.StatusOK, code, body)
		st = web.Status{}
		require.NoError(t, json.Unmarshal([]byte(body), &st))
		require.Nil(t, st.Upgrade)
	}
	require.Equal(t, []web.UpgradeChoice{web.KeepUpgraded, web.RestoreDefaults}, fb.upgradeChoices())
}

// TestAuthCheck: GET /api/auth (and HEAD, which net/http routes to it)
// answers 204 to the right token and 401 otherwise; neither carries a
// body, so neither needs a Content-Type.
func TestAuthCheck(t *testing.T) {
	token := map[string]string{"Authorization": "Bearer " + testToken}
	tests := []struct {
		method string
		hdr    map[string]string
		code   int
	}{
		{"GET", token, http.StatusNoContent},
		{"HEAD", token, http.StatusNoContent},
		{"GET", authJSON, http.StatusNoContent},
		{"GET", nil, http.StatusUnauthorized},
		{"HEAD", nil, http.StatusUnauthorized},
		{"GET", withHeaders(token, "Authorization", "Bearer wrong-token-0123456789"), http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.method, tt.code), func(t *testing.T) {
			s, _ := newServer(t)
			code, body, _ := do(s, tt.method, "/api/auth", "", tt.hdr)
			require.Equal(t, tt.code, code, body)
		})
	}
}

// TestRoutingErrors: a request no route takes gets the API's JSON error
// (docs/API.md): 405 with Allow when the path is served with other
// methods, also a path pattern (/api/info/{type}), /metrics and the page;
// else 404.
func TestRoutingErrors(t *testing.T) {
	tests := []struct {
		method, path string
		code         int
		allow, want  string
	}{
		{"DELETE", "/api/config", 405, "GET, HEAD, PUT", `method "DELETE" not allowed`},
		{"GET", "/api/sync", 405, "POST", "use POST"},
		{"GET", "/api/info/power", 405, "PUT", "use PUT"},
		{"DELETE", "/api/info/no-such-type", 405, "PUT", "use PUT"},
		{"POST", "/metrics", 405, "GET, HEAD", "use GET or HEAD"},
		{"POST", "/", 405, "GET, HEAD", "use GET or HEAD"},
		{"PUT", "/app.js", 405, "GET, HEAD", "use GET or HEAD"},
		{"POST", "/api/auth", 405, "GET, HEAD", "use GET or HEAD"},
		{"GET", "/api/nope", 404, "", "no such API endpoint"},
		{"GET", "/api/info/", 404, "", "no such API endpoint"},
		{"GET", "/api/status/", 404, "", "no such API endpoint"},
		{"GET", "/nope", 404, "", "no such page or endpoint"},
		{"GET", "/index.html", 404, "", "no such page or endpoint"},
		{"GET", "/static/app.js", 404, "", "no such page or endpoint"},
		{"POST", "/nope", 404, "", "no such page or endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			s, _ := newServer(t)
			code, body, hdr := do(s, tt.method, tt.path, "", authJSON)
			require.Equal(t, tt.code, code, body)
			require.Equal(t, tt.allow, hdr.Get("Allow"))
			require.Contains(t, hdr.Get("Content-Type"), "application/json")
			var e web.ErrorBody
			require.NoError(t, json.Unmarshal([]byte(body), &e), body)
			require.Contains(t, e.Error, tt.want)
		})
	}
}

func TestLoadOrCreateToken(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	tok, created, err := web.LoadOrCreateToken(dir)
	require.NoError(t, err)
	require.True(t, created)
	require.Len(t, tok, 43)
	fi, err := os.Stat(filepath.Join(dir, web.TokenFile))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	again, created, err := web.LoadOrCreateToken(dir)
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, tok, again)

	other, _, err := web.LoadOrCreateToken(t.TempDir())
	require.NoError(t, err)
	require.NotEqual(t, tok, other)
}

// TestLoadOrCreateTokenReplacesAnEmptyFile: a token file of 0 bytes,
// private, is what a first start cut between the file's creation and its
// data reaching the disk leaves (the token used to be written in place):
// it holds no token any client could have, so a new one replaces it
// (created, printed once) rather than the daemon refusing every restart.
// A token is written atomically (a temporary file fsynced and renamed),
// and none is left behind.
func TestLoadOrCreateTokenReplacesAnEmptyFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, web.TokenFile)
	writeToken("", 0o600)(t, p)
	tok, created, err := web.LoadOrCreateToken(dir)
	require.NoError(t, err)
	require.True(t, created)
	require.Len(t, tok, web.TokenLen)
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, tok+"\n", string(b))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "only the token file: %v", entries)

	// An empty file others could write is refused as before.
	dir = t.TempDir()
	writeToken("", 0o644)(t, filepath.Join(dir, web.TokenFile))
	_, _, err = web.LoadOrCreateToken(dir)
	require.ErrorIs(t, err, web.ErrUnsafeTokenFile)
}

func TestLoadOrCreateTokenRefusesBadFiles(t *testing.T) {
	valid := strings.Repeat("A", web.TokenLen)
	tests := []struct {
		name  string
		plant func(t *testing.T, path string) // puts something at the token file's path
		want  string
	}{
		{"world readable", writeToken(valid, 0o644), "chmod 600"},
		{"group readable", writeToken(valid, 0o640), "chmod 600"},
		{"group executable", writeToken(valid, 0o610), "chmod 600"},
		{"blank line", writeToken("\n", 0o600), "no valid token"},
		{"too short", writeToken("abc\n", 0o600), "no valid token"},
		{"one short of the generated length", writeToken(valid[1:], 0o600), "at least 43"},
		{"spaces", writeToken(valid[:20]+" "+valid[20:], 0o600), "no valid token"},
		{"control character", writeToken(valid+"\x01", 0o600), "no valid token"},
		{"huge", writeToken(strings.Repeat("A", 1<<20), 0o600), "no valid token"},
		{"symlink to a good file", func(t *testing.T, path string) {
			target := filepath.Join(t.TempDir(), "elsewhere")
			writeToken(valid, 0o600)(t, target)
			require.NoError(t, os.Symlink(target, path))
		}, "symbolic link"},
		{"dangling symlink", func(t *testing.T, path string) {
			require.NoError(t, os.Symlink(filepath.Join(t.TempDir(), "nothing"), path))
		}, "symbolic link"},
		{"folder", func(t *testing.T, path string) { require.NoError(t, os.Mkdir(path, 0o700)) }, "not a regular file"},
		{"fifo", func(t *testing.T, path string) { require.NoError(t, syscall.Mkfifo(path, 0o600)) }, "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, web.TokenFile)
			tt.plant(t, p)
			before, _ := os.Lstat(p)
			_, _, err := web.LoadOrCreateToken(dir)
			require.ErrorIs(t, err, web.ErrUnsafeTokenFile)
			require.ErrorContains(t, err, tt.want)
			after, _ := os.Lstat(p)
			require.Equal(t, before.Mode(), after.Mode(), "a refused token file is left as it was")
		})
	}
	t.Run("the generated length is enough", func(t *testing.T) {
		dir := t.TempDir()
		writeToken(valid+"\n", 0o600)(t, filepath.Join(dir, web.TokenFile))
		tok, created, err := web.LoadOrCreateToken(dir)
		require.NoError(t, err)
		require.False(t, created)
		require.Equal(t, valid, tok)
	})
}

// writeToken plants a token file with the given contents and mode.
func writeToken(contents string, mode os.FileMode) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		require.NoError(t, os.WriteFile(path, []byte(contents), mode))
		require.NoError(t, os.Chmod(path, mode))
	}
}

// A state folder others can write to is refused: another user could swap
// the token file (or the simulated chips) under the server.
func TestCheckStateDir(t *testing.T) {
	tests := []struct {
		mode os.FileMode
		ok   bool
	}{
		{0o700, true},
		{0o750, true},
		{0o755, true},
		{0o770, false},
		{0o730, false},
		{0o757, false},
		{0o777, false},
		{0o1777, false}, // like /tmp
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "state")
			require.NoError(t, os.Mkdir(dir, 0o700))
			require.NoError(t, os.Chmod(dir, tt.mode))
			err := web.CheckStateDir(dir)
			_, _, tokErr := web.LoadOrCreateToken(dir)
			if tt.ok {
				require.NoError(t, err)
				require.NoError(t, tokErr)
				return
			}
			require.ErrorIs(t, err, web.ErrUnsafeStateDir)
			require.ErrorContains(t, err, "chmod go-w")
			require.ErrorIs(t, tokErr, web.ErrUnsafeStateDir)
			_, statErr := os.Lstat(filepath.Join(dir, web.TokenFile))
			require.ErrorIs(t, statErr, os.ErrNotExist, "no token is written into an unsafe folder")
		})
	}
	t.Run("a file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "file")
		require.NoError(t, os.WriteFile(p, nil, 0o600))
		require.ErrorContains(t, web.CheckStateDir(p), "not a folder")
	})
}

// TestConfigValidate: the group size may be 0 up to the chosen types
// (the engine refuses more), not up to the known ones.
func TestConfigValidate(t *testing.T) {
	known := []string{"power", "fan", "node"}
	for _, tt := range []struct {
		types []string
		group int
		ok    bool
	}{
		{[]string{"fan"}, 0, true},
		{[]string{"fan"}, 1, true},
		{[]string{"fan"}, 2, false},
		{[]string{"fan", "power"}, 2, true},
		{[]string{"fan", "power"}, 3, false},
		{[]string{"fan"}, -1, false},
	} {
		t.Run(fmt.Sprintf("%v/%d", tt.types, tt.group), func(t *testing.T) {
			c := web.Config{Types: tt.types, Interval: web.Duration(time.Second), Threshold: web.Duration(10 * time.Millisecond), GroupSize: tt.group}
			err := c.Validate(known)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, web.ErrInvalid)
			var fe *web.FieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, "group_size", fe.Field)
		})
	}
}

// TestAllowedHosts: with AllowedHosts set, a request naming another host
// (a DNS-rebinding page) gets 421 and reads nothing; loopback names pass.
func TestAllowedHosts(t *testing.T) {
	cases := []struct {
		host string
		want int
	}{
		{"127.0.0.1:8080", http.StatusOK},
		{"localhost:8080", http.StatusOK},
		{"LOCALHOST", http.StatusOK},
		{"[::1]:8080", http.StatusOK},
		{"evil.example:8080", http.StatusMisdirectedRequest},
		{"127.0.0.1.evil.example", http.StatusMisdirectedRequest},
	}
	for _, c := range cases {
		t.Run(c.host, func(t *testing.T) {
			s, err := web.New(newFake(), web.Options{Token: testToken, AllowedHosts: web.LoopbackHosts})
			require.NoError(t, err)
			req := httptest.NewRequest(http.MethodGet, "/api/status", nil)
			req.Host = c.host
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			require.Equal(t, c.want, rec.Code, rec.Body.String())
		})
	}
}

func TestPostFailback(t *testing.T) {
	s, fb := newServer(t)
	auth := map[string]string{"Authorization": "Bearer " + testToken, "Content-Type": "application/json"}
	code, body, _ := do(s, "POST", "/api/failback", "", auth)
	require.Equal(t, http.StatusConflict, code, body)
	require.Contains(t, body, "already the active chip")
	code, _, _ = do(s, "POST", "/api/failback", `{"x": 1}`, auth)
	require.Equal(t, http.StatusBadRequest, code, "the body takes no members")
	code, _, _ = do(s, "POST", "/api/failback", "", map[string]string{"Authorization": "Bearer " + testToken})
	require.Equal(t, http.StatusUnsupportedMediaType, code, "a change without a JSON content type")
	fb.active = 1
	code, body, _ = do(s, "POST", "/api/failback", "{}", auth)
	require.Equal(t, http.StatusConflict, code, "nothing committed yet: %s", body)
	code, _, _ = do(s, "POST", "/api/sync", "", auth)
	require.Equal(t, http.StatusOK, code)
	code, body, _ = do(s, "POST", "/api/failback", "{}", auth)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"active_chip": 0`)
	require.Contains(t, body, `"role_epoch": 2`)
}

func TestPutInfo(t *testing.T) {
	s, _ := newServer(t)
	auth := map[string]string{"Authorization": "Bearer " + testToken, "Content-Type": "application/json"}
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	for _, tc := range []struct {
		name, path, body string
		code             int
		want             string
	}{
		{"written", "/api/info/event-log", `{"data_base64": "` + b64([]byte("0123456789abcdef")) + `"}`, 200, `"changed": true`},
		{"asset slot", "/api/info/asset", `{"data_base64": "` + b64([]byte("fru")) + `", "slot": 3}`, 200, `"slot": 3`},
		{"unknown type", "/api/info/psu", `{"data_base64": "AA=="}`, 400, `unknown information type \"psu\"`},
		{"no data", "/api/info/power", `{}`, 400, `"field": "data_base64"`},
		{"empty data", "/api/info/event-log", `{"data_base64": ""}`, 400, `send \"allow_empty\": true`},
		{"empty data, allowed", "/api/info/event-log", `{"data_base64": "", "allow_empty": true}`, 200, `"changed": true`},
		{"allow_empty not a boolean", "/api/info/event-log", `{"data_base64": "", "allow_empty": 1}`, 400, `"field": "allow_empty"`},
		{"not base64", "/api/info/power", `{"data_base64": "%%%"}`, 400, "not standard base64"},
		{"bad layout", "/api/info/event-log", `{"data_base64": "AA==", "sel_layout": "raw"}`, 400, `"field": "sel_layout"`},
		{"bad slot", "/api/info/asset", `{"data_base64": "AA==", "slot": -1}`, 400, `"field": "slot"`},
		{"unknown member", "/api/info/power", `{"data_base64": "AA==", "data": "x"}`, 400, "unknown"},
		{"input the backend refuses", "/api/info/power", `{"data_base64": "` + b64([]byte("bad")) + `"}`, 400, "does not decode"},
		{"too large", "/api/info/power", `{"data_base64": "` + b64(make([]byte, web.MaxInfoBytes+1)) + `"}`, 400, "larger than 4194304"},
		{"body too large", "/api/info/power", `{"data_base64": "` + strings.Repeat("A", 6<<20) + `"}`, 413, "request body is larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, _ := do(s, "PUT", tc.path, tc.body, auth)
			require.Equal(t, tc.code, code, body)
			require.Contains(t, body, tc.want)
		})
	}
	code, _, _ := do(s, "PUT", "/api/info/power", `{"data_base64": "AA=="}`, map[string]string{"Authorization": "Bearer " + testToken})
	require.Equal(t, http.StatusUnsupportedMediaType, code)
	code, _, _ = do(s, "PUT", "/api/info/power", `{"data_base64": "AA=="}`, map[string]string{"Content-Type": "application/json"})
	require.Equal(t, http.StatusUnauthorized, code)
	code, _, _ = do(s, "PUT", "/api/info/power", `{"data_base64": "`+b64(make([]byte, web.MaxInfoBytes))+`"}`, auth)
	require.Equal(t, http.StatusOK, code, "4 MiB is allowed")
}
