package web_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/internal/jsonout"
)

// TestAPIConvention: every JSON the API answers follows docs/JSON.md
// (snake_case keys, durations as float seconds in *_seconds keys).
func TestAPIConvention(t *testing.T) {
	s, _ := newServer(t)
	code, body, _ := do(s, "POST", "/api/sync", "{}", authJSON)
	require.Equal(t, http.StatusOK, code, body)
	require.NoError(t, jsonout.Check([]byte(body)), body)
	code, body, _ = do(s, "PUT", "/api/config", `{"types":["power"],"interval_seconds":1.5}`, authJSON)
	require.Equal(t, http.StatusBadRequest, code, body)
	require.NoError(t, jsonout.Check([]byte(body)), body)
	for _, path := range []string{"/api/status", "/api/types", "/api/selection", "/api/config", "/api/events", "/api/rounds"} {
		code, body, _ := do(s, "GET", path, "", nil)
		require.Equal(t, http.StatusOK, code, body)
		require.NoError(t, jsonout.Check([]byte(body)), "%s: %s", path, body)
	}
}
