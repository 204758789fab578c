package web_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/internal/jsonschema"
)

// requireAnswerSchema checks an answer against docs/schema/NAME.json; for
// an array answer (each true), every element.
func requireAnswerSchema(t *testing.T, name string, each bool, body string) {
	t.Helper()
	sc, err := jsonschema.CompileFile(filepath.Join("..", "docs", "schema", name+".json"))
	require.NoError(t, err)
	if !each {
		require.NoError(t, sc.Validate([]byte(body)), "%s: %s", name, body)
		return
	}
	var elems []json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(body), &elems), "%s: not an array: %s", name, body)
	require.NotEmpty(t, elems, "%s: nothing to check", name)
	for _, e := range elems {
		require.NoError(t, sc.Validate(e), "%s: %s", name, e)
	}
}

// TestAnswersMatchTheirSchemas: the API answers documented in docs/schema
// (the fake backend's; daemon/schema_test.go checks the daemon's).
func TestAnswersMatchTheirSchemas(t *testing.T) {
	s, fb := newServer(t)
	fb.active = 1
	auth := map[string]string{"Authorization": "Bearer " + testToken, "Content-Type": "application/json"}
	for _, tc := range []struct {
		schema, method, path, body string
		code                       int
		each                       bool
	}{
		{"config", "GET", "/api/config", "", 200, false},
		{"config", "PUT", "/api/config", `{"types": ["power"], "interval_seconds": 60, "threshold_seconds": 0.5, "verify": true, "group_size": 0, "retry_at_once": false}`, 200, false},
		{"error", "POST", "/api/failback", "", 409, false}, // nothing committed yet
		{"round", "POST", "/api/sync", "", 200, false},
		{"failback", "POST", "/api/failback", "", 200, false},
		{"error", "POST", "/api/failback", "", 409, false},
		{"info-put", "PUT", "/api/info/asset", `{"data_base64": "AAEC", "slot": 2}`, 200, false},
		{"error", "PUT", "/api/info/asset", `{"data_base64": "AAEC", "slot": "2"}`, 400, false},
		{"status", "GET", "/api/status", "", 200, false},
		{"type-info", "GET", "/api/types", "", 200, true},
		{"selection", "GET", "/api/selection", "", 200, false},
		{"selection", "PUT", "/api/selection", `{"types": ["power", "fan"]}`, 200, false},
		{"event", "GET", "/api/events", "", 200, true},
		{"round", "GET", "/api/rounds", "", 200, true},
		{"error", "POST", "/api/upgrade", `{"choice": "keep-upgraded"}`, 409, false}, // no upgrade pending
		{"status", "POST", "/api/simulate/upgrade", "", 200, false},
		{"status", "GET", "/api/status", "", 200, false}, // with its upgrade
		{"status", "POST", "/api/upgrade", `{"choice": "keep-upgraded"}`, 200, false},
	} {
		code, body, _ := do(s, tc.method, tc.path, tc.body, auth)
		require.Equal(t, tc.code, code, "%s %s: %s", tc.method, tc.path, body)
		requireAnswerSchema(t, tc.schema, tc.each, body)
	}
}
