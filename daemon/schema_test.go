package daemon

import (
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/internal/jsonschema"
	"github.com/cmcsync/cmcsync/web"
)

// TestDaemonAnswersMatchTheirSchemas: every JSON answer of the API, as
// the daemon's backend on simulated chips gives it, against its schema in
// docs/schema (an array answer: each element); and the new schemas refuse
// a real answer made wrong.
func TestDaemonAnswersMatchTheirSchemas(t *testing.T) {
	d := openSim(t, 1)
	const token = "0123456789abcdef0123456789abcdef0123456789a"
	srv, err := web.New(d.Backend(), web.Options{Token: token})
	require.NoError(t, err)
	schema := func(name string) *jsonschema.Schema {
		sc, err := jsonschema.CompileFile(filepath.Join("..", "docs", "schema", name+".json"))
		require.NoError(t, err)
		return sc
	}
	do := func(method, path, body string) (int, string) {
		req := httptest.NewRequest(method, "http://127.0.0.1:8080"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	answers := map[string]string{}
	for _, tc := range []struct {
		schema, method, path, body string
		code                       int
		each                       bool
	}{
		{"status", "GET", "/api/status", "", 200, false}, // before the first round
		{"round", "POST", "/api/sync", "", 200, false},
		{"status", "GET", "/api/status", "", 200, false},
		{"type-info", "GET", "/api/types", "", 200, true},
		{"selection", "GET", "/api/selection", "", 200, false},
		{"selection", "PUT", "/api/selection", `{"types": ["power", "fan", "event-log"]}`, 200, false},
		{"config", "GET", "/api/config", "", 200, false},
		{"config", "PUT", "/api/config", `{"types": ["power", "fan"], "interval_seconds": 60, "threshold_seconds": 0.5, "verify": true, "group_size": 0, "retry_at_once": false}`, 200, false},
		{"info-put", "PUT", "/api/info/event-log", `{"data_base64": "` + base64.StdEncoding.EncodeToString(selInput(3)) + `"}`, 200, false},
		{"error", "PUT", "/api/info/asset", `{"data_base64": "AAEC"}`, 400, false}, // not a FRU image
		{"event", "GET", "/api/events?limit=50", "", 200, true},
		{"round", "GET", "/api/rounds", "", 200, true},
		{"error", "POST", "/api/failback", "", 409, false}, // chip A is active
		{"error", "POST", "/api/upgrade", `{"choice": "keep-upgraded"}`, 409, false},
		{"status", "POST", "/api/simulate/upgrade", "", 200, false},
		{"status", "POST", "/api/upgrade", `{"choice": "keep-upgraded"}`, 200, false},
		{"error", "GET", "/api/nothing", "", 404, false},
	} {
		code, body := do(tc.method, tc.path, tc.body)
		require.Equal(t, tc.code, code, "%s %s: %s", tc.method, tc.path, body)
		if !tc.each {
			require.NoError(t, schema(tc.schema).Validate([]byte(body)), "%s %s: %s", tc.method, tc.path, body)
			answers[tc.schema] = body
			continue
		}
		var elems []json.RawMessage
		require.NoError(t, json.Unmarshal([]byte(body), &elems), body)
		require.NotEmpty(t, elems, "%s %s", tc.method, tc.path)
		for _, e := range elems {
			require.NoError(t, schema(tc.schema).Validate(e), "%s %s: %s", tc.method, tc.path, e)
		}
		answers[tc.schema] = string(elems[0])
	}

	// Each schema refuses its real answer made wrong: a member renamed
	// (a Go field name, a camelCase or an old duration name) or a value
	// of another type.
	for _, tc := range []struct{ schema, from, to string }{
		{"status", `"active_chip"`, `"ActiveChip"`},
		{"status", `"rounds":`, `"Rounds":`},
		{"status", `"active":"primary"`, `"active":0`},
		{"type-info", `"capacity_bytes"`, `"capacityBytes"`},
		{"selection", `"types":[`, `"types":[1,`},
		{"event", `"time"`, `"Time"`},
		{"event", `"kind":"`, `"kind":1,"what":"`},
		{"round", `"duration_seconds"`, `"duration"`},
	} {
		var v any
		require.NoError(t, json.Unmarshal([]byte(answers[tc.schema]), &v))
		compact, err := json.Marshal(v)
		require.NoError(t, err)
		wrong := strings.Replace(string(compact), tc.from, tc.to, 1)
		require.NotEqual(t, string(compact), wrong, "%s: %s not in %s", tc.schema, tc.from, compact)
		require.True(t, json.Valid([]byte(wrong)), wrong)
		require.ErrorIs(t, schema(tc.schema).Validate([]byte(wrong)), jsonschema.ErrInvalid, "%s: %s", tc.schema, wrong)
	}
}
