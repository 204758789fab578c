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

// TestEventGenerationAlwaysPresent: every event of GET /api/events has
// "generation", 0 included (an event of no round, as the simulated
// upgrade's), as cmcsync sync --json prints it; docs/schema/event.json
// requires it.
func TestEventGenerationAlwaysPresent(t *testing.T) {
	s, _ := newServer(t)
	auth := map[string]string{"Authorization": "Bearer " + testToken, "Content-Type": "application/json"}
	code, body, _ := do(s, "POST", "/api/simulate/upgrade", "", auth)
	require.Equal(t, 200, code, body)
	code, body, _ = do(s, "GET", "/api/events", "", auth)
	require.Equal(t, 200, code, body)
	var evs []map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &evs))
	var zero bool
	for _, ev := range evs {
		g, ok := ev["generation"]
		require.True(t, ok, "an event without generation: %v", ev)
		zero = zero || g == float64(0)
	}
	require.True(t, zero, "no event of generation 0 to check: %s", body)
	requireAnswerSchema(t, "event", true, body)

	sc, err := jsonschema.CompileFile(filepath.Join("..", "docs", "schema", "event.json"))
	require.NoError(t, err)
	require.ErrorIs(t, sc.Validate([]byte(`{"time": "2026-01-01T00:00:00Z", "kind": "start", "detail": "x"}`)), jsonschema.ErrInvalid,
		"the schema requires generation")
}
