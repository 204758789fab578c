package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestConfigSetOutOfRangeNamesFlagAndLimits: a value outside the limits
// docs/CLI.md states (--interval 1s to 24h, --threshold 10ms to 10m) exits
// 2 with an error naming the flag and those limits, also where the
// engine's own, wider range would refuse it first (0s).
func TestConfigSetOutOfRangeNamesFlagAndLimits(t *testing.T) {
	_, chips := pairFiles(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--interval", "0s"}, "--interval: sync interval 0s is out of range: choose between 1s and 24h (1 to 86400 seconds)"},
		{[]string{"--interval", "50ms"}, "--interval: sync interval 50ms is out of range: choose between 1s and 24h (1 to 86400 seconds)"},
		{[]string{"--interval", "500ms"}, "choose between 1s and 24h (1 to 86400 seconds)"},
		{[]string{"--interval", "800h"}, "choose between 1s and 24h (1 to 86400 seconds)"},
		{[]string{"--threshold", "0s"}, "--threshold: response-time threshold 0s is out of range: choose between 10ms and 10m (0.01 to 600 seconds)"},
		{[]string{"--threshold", "2h"}, "--threshold: response-time threshold 2h is out of range: choose between 10ms and 10m (0.01 to 600 seconds)"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := runCLI(append(append([]string{"config", "set"}, tc.args...), chips...)...)
			code, msg := exitOf(t, err)
			require.Equal(t, 2, code, msg)
			require.Contains(t, msg, tc.want)
		})
	}
}
