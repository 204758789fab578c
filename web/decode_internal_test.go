package web

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// FuzzDecodeObject: whatever the strict decoder accepts, encoding/json
// decodes to the same value, and every member name it accepted is spelled
// exactly as the struct's JSON names.
func FuzzDecodeObject(f *testing.F) {
	f.Add(`{"types":["power"],"interval_seconds":30,"threshold_seconds":1,"verify":true,"group_size":1,"retry_at_once":false}`)
	f.Add(`{"types":["power"],"types":["fan"]}`)
	f.Add(`{"Interval":"1s"}`)
	f.Add(`{"types":[{"a":1,"a":2}]}`)
	f.Add(`{"\u0074ypes":[]}`)
	f.Add(`{} {}`)
	f.Add(`[`)
	f.Fuzz(func(t *testing.T, body string) {
		var strict Config
		if err := decodeObject([]byte(body), &strict, false); err != nil {
			return
		}
		var lenient Config
		require.NoError(t, json.Unmarshal([]byte(body), &lenient), "strict accepted what encoding/json refuses: %q", body)
		require.Equal(t, lenient, strict)
		var members map[string]json.RawMessage
		require.NoError(t, json.Unmarshal([]byte(body), &members))
		fields := jsonFields(&Config{})
		for name := range members {
			_, ok := fields[name]
			require.True(t, ok, "accepted member %q", name)
		}
	})
}

func TestCheckNoDuplicateNames(t *testing.T) {
	tests := []struct {
		raw  string
		want string // "" accepts
	}{
		{`1`, ""},
		{`[1,{"a":1},{"a":2}]`, ""},
		{`{"a":{"a":1},"b":[{"a":1,"b":2}]}`, ""},
		{`{"a":1,"a":2}`, `"a" twice`},
		{`[[{"x":[],"y":{},"x":null}]]`, `"x" twice`},
		{`{"a":{"b":1,"b":1}}`, `"b" twice`},
	}
	for _, tt := range tests {
		err := checkNoDuplicateNames([]byte(tt.raw))
		if tt.want == "" {
			require.NoError(t, err, tt.raw)
			continue
		}
		require.ErrorContains(t, err, tt.want, tt.raw)
	}
	long := `{"` + strings.Repeat("k", 1000) + `":1,"` + strings.Repeat("k", 1000) + `":2}`
	err := checkNoDuplicateNames([]byte(long))
	require.Error(t, err)
	require.Less(t, len(err.Error()), 200, "a repeated name is cut in the error")
}

// TestConfigMembers: the members a PUT /api/config requires are exactly
// Config's JSON names, so a member added to Config is required too.
func TestConfigMembers(t *testing.T) {
	var names []string
	for name := range jsonFields(&Config{}) {
		names = append(names, name)
	}
	require.ElementsMatch(t, names, configMembers)
}

// TestShortDuration: the limits in Validate's messages read as a user
// writes them, without the zero minutes and seconds of time.Duration.
func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		24 * time.Hour:                 "24h",
		10 * time.Minute:               "10m",
		2 * time.Hour:                  "2h",
		90 * time.Minute:               "1h30m",
		time.Hour + time.Second:        "1h0m1s",
		10*time.Minute + 5*time.Second: "10m5s",
		500 * time.Millisecond:         "500ms",
		time.Second:                    "1s",
		0:                              "0s",
	} {
		require.Equal(t, want, shortDuration(d), "%v", d)
	}
}
