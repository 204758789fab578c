package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLogNeverHoldsTheToken: a client that puts the API token in a path
// (a script's mistake, such as /api/auth/TOKEN) gets its refusal logged
// without the token, not even the part of it left where the logged path
// is cut.
func TestLogNeverHoldsTheToken(t *testing.T) {
	tests := []struct{ name, path string }{
		{"token in the path", "/api/auth/" + testToken},
		{"token twice", "/" + testToken + "/" + testToken},
		{"token where the logged path is cut", "/api/" + strings.Repeat("a", 256-5-10) + testToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, lc := newLoggingServer(t)
			rec := getRaw(s, tt.path)
			require.Equal(t, http.StatusNotFound, rec.Code)
			require.NotContains(t, rec.Body.String(), testToken[:8])
			entries := lc.all()
			require.Len(t, entries, 1)
			require.NotContains(t, entries[0], testToken[:8], "not even a part of the token is logged")
		})
	}
}
