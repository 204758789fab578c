package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/web"
)

// TestJSONBodyAttacks: hostile bodies of a PUT /api/config (the change
// with the most members) get a 400 JSON error naming the member at fault
// where there is one, an answer that does not repeat the body at length,
// and change nothing.
func TestJSONBodyAttacks(t *testing.T) {
	const rest = `"threshold_seconds":1,"verify":true,"group_size":0,"retry_at_once":false}`
	long := strings.Repeat("9", 60<<10)
	tests := []struct {
		name, body, field, want string
	}{
		{"UTF-8 BOM", "\ufeff" + `{"types":["power"],"interval_seconds":10,` + rest, "", "malformed JSON"},
		{"duplicate member", `{"types":["power"],"types":["fan"],"interval_seconds":10,` + rest, "types", "listed twice"},
		{"duplicate member, other spelling", `{"types":["power"],"\u0074ypes":["fan"],"interval_seconds":10,` + rest, "types", "listed twice"},
		{"case variant", `{"Types":["power"],"interval_seconds":10,` + rest, "Types", "case-sensitive"},
		{"deeply nested arrays", `{"types":` + strings.Repeat("[", 30000) + strings.Repeat("]", 30000) + `}`, "", "depth"},
		{"deeply nested objects", `{"types":` + strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000) + `}`, "types", ""},
		{"number beyond float64", `{"types":["power"],"interval_seconds":1e400,` + rest, "interval_seconds", "too large"},
		{"60 KB number of seconds", `{"types":["power"],"interval_seconds":` + long + `,` + rest, "interval_seconds", "too large"},
		{"60 KB whole number", `{"types":["power"],"interval_seconds":10,"threshold_seconds":1,"verify":true,"group_size":` + long + `,"retry_at_once":false}`, "group_size", "want a whole number"},
		{"60 KB member name", `{"` + strings.Repeat("n", 60<<10) + `":1}`, strings.Repeat("n", 64) + "…(61376 more bytes)", "unknown field"},
		{"60 KB type name", `{"types":["` + strings.Repeat("t", 60<<10) + `"],"interval_seconds":10,` + rest, "types", "unknown information type"},
		{"NaN string", `{"types":["power"],"interval_seconds":"NaN",` + rest, "interval_seconds", "want a number of seconds"},
		{"NaN literal", `{"types":["power"],"interval_seconds":NaN,` + rest, "", "malformed JSON"},
		{"Infinity literal", `{"types":["power"],"interval_seconds":Infinity,` + rest, "", "malformed JSON"},
		{"hex number", `{"types":["power"],"interval_seconds":0x10,` + rest, "", "malformed JSON"},
		{"negative zero", `{"types":["power"],"interval_seconds":-0,` + rest, "interval_seconds", "out of range"},
		{"trailing object", `{"types":["power"],"interval_seconds":10,` + rest + `{}`, "", "extra data"},
		{"trailing garbage", `{"types":["power"],"interval_seconds":10,` + rest + `x`, "", ""},
		{"trailing NUL", `{"types":["power"],"interval_seconds":10,` + rest + "\x00", "", ""},
		{"invalid UTF-8 in a type", `{"types":["pow` + "\xff" + `er"],"interval_seconds":10,` + rest, "types", "unknown information type"},
		{"top-level array", `[{"types":["power"]}]`, "", "want a JSON object"},
		{"top-level string", `"{}"`, "", "want a JSON object"},
		{"comment", `{"types":["power"], /* x */ "interval_seconds":10,` + rest, "", "malformed JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newServer(t)
			before := configJSON(t, s)
			code, body, hdr := do(s, "PUT", "/api/config", tt.body, authJSON)
			require.Equal(t, http.StatusBadRequest, code, body)
			require.Contains(t, hdr.Get("Content-Type"), "application/json")
			var e web.ErrorBody
			require.NoError(t, json.Unmarshal([]byte(body), &e), body)
			require.Equal(t, tt.field, e.Field, e.Error)
			require.Contains(t, e.Error, tt.want)
			require.Less(t, len(body), 1024, "the answer does not repeat the body at length")
			require.Equal(t, before, configJSON(t, s), "nothing changed")
		})
	}
}
