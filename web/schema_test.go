package web_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/internal/jsonschema"
)

// TestAnswersMatchTheirSchemas: the API answers documented in docs/schema.
func TestAnswersMatchTheirSchemas(t *testing.T) {
	s, fb := newServer(t)
	fb.active = 1
	auth := map[string]string{"Authorization": "Bearer " + testToken, "Content-Type": "application/json"}
	for _, tc := range []struct {
		schema, method, path, body string
		code                       int
	}{
		{"config", "GET", "/api/config", "", 200},
		{"config", "PUT", "/api/config", `{"types": ["power"], "interval_seconds": 60, "threshold_seconds": 0.5, "verify": true, "group_size": 0, "retry_at_once": false}`, 200},
		{"error", "POST", "/api/failback", "", 409}, // nothing committed yet
		{"round", "POST", "/api/sync", "", 200},
		{"failback", "POST", "/api/failback", "", 200},
		{"error", "POST", "/api/failback", "", 409},
		{"info-put", "PUT", "/api/info/asset", `{"data_base64": "AAEC", "slot": 2}`, 200},
		{"error", "PUT", "/api/info/asset", `{"data_base64": "AAEC", "slot": "2"}`, 400},
	} {
		code, body, _ := do(s, tc.method, tc.path, tc.body, auth)
		require.Equal(t, tc.code, code, "%s %s: %s", tc.method, tc.path, body)
		sc, err := jsonschema.CompileFile(filepath.Join("..", "docs", "schema", tc.schema+".json"))
		require.NoError(t, err)
		require.NoError(t, sc.Validate([]byte(body)), "%s %s: %s", tc.method, tc.path, body)
	}
}
