package web_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/web"
)

// FuzzRequestBodies sends arbitrary bodies to every endpoint that decodes
// one. Whatever the bytes, the answer is JSON, the status is a success or
// a 400/409/413, and a refused request changes nothing.
func FuzzRequestBodies(f *testing.F) {
	f.Add(`{"types":["power","fan"],"interval_seconds":30,"threshold_seconds":0.5,"verify":true,"group_size":1,"retry_at_once":false}`)
	f.Add(`{"types":["asset"]}`)
	f.Add(`{"choice":"keep-upgraded"}`)
	f.Add(`{"choice":"restore-defaults"}`)
	f.Add(`{"types":["fan","fan"],"interval_seconds":3600,"threshold_seconds":0.01}`)
	f.Add(`{"interval_seconds":-1}`)
	f.Add(`{"types":[],"interval":"1e9s","threshold_seconds":9223372036.854776382}`)
	f.Add(`{}`)
	f.Add(`[`)
	f.Add("\x00\xff")
	f.Add(`{"types":["power"]}{"types":[]}`)
	f.Fuzz(func(t *testing.T, body string) {
		s, fb := newServer(t)
		for _, ep := range []struct{ method, path string }{
			{"PUT", "/api/config"},
			{"PUT", "/api/selection"},
			{"POST", "/api/upgrade"},
			{"POST", "/api/sync"},
		} {
			before := fb.Config()
			beforeGen := fb.Status().Generation
			code, resp, _ := do(s, ep.method, ep.path, body, authJSON)
			require.True(t, json.Valid([]byte(resp)), "%s %s: response is not JSON: %q", ep.method, ep.path, resp)
			switch code {
			case http.StatusOK:
				var c web.Config
				if ep.path == "/api/config" {
					require.NoError(t, json.Unmarshal([]byte(resp), &c))
					require.NoError(t, c.Validate([]string{"power", "fan", "node", "event-log", "fault-log", "asset"}))
				}
			case http.StatusBadRequest, http.StatusConflict, http.StatusRequestEntityTooLarge:
				var e web.ErrorBody
				require.NoError(t, json.Unmarshal([]byte(resp), &e))
				require.NotEmpty(t, e.Error)
				require.Equal(t, before, fb.Config(), "%s %s refused %q but changed the config", ep.method, ep.path, body)
				require.Equal(t, beforeGen, fb.Status().Generation)
			default:
				t.Fatalf("%s %s %q: status %d: %s", ep.method, ep.path, body, code, resp)
			}
		}
	})
}
