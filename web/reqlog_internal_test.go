package web

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The log takes a burst, then logLinesPerSecond, and the next line
// written says how many were dropped.
func TestRequestLogRateLimit(t *testing.T) {
	var got []string
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newRequestLog(func(format string, a ...any) { got = append(got, fmt.Sprintf(format, a...)) }, "")
	l.now = func() time.Time { return now }
	for i := range logBurst + 30 {
		l.line(fmt.Sprintf("line %d", i))
	}
	require.Len(t, got, logBurst)
	now = now.Add(time.Second)
	for i := range 10 {
		l.line(fmt.Sprintf("later %d", i))
	}
	require.Len(t, got, logBurst+logLinesPerSecond)
	require.Equal(t, "later 0 (30 earlier lines not logged: more than 2 a second)", got[logBurst])
	require.Equal(t, "later 1", got[logBurst+1])
	now = now.Add(time.Hour)
	for i := range logBurst + 1 {
		l.line(fmt.Sprintf("after a quiet hour %d", i))
	}
	require.Len(t, got, 2*logBurst+logLinesPerSecond, "the burst refills, no further")
	require.True(t, strings.HasPrefix(got[logBurst+logLinesPerSecond], "after a quiet hour 0 (8 earlier lines"))
}

func TestCapText(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"0123456789abc", 10, "0123456789…(3 more bytes)"},
		{"ééééé", 3, "é…(8 more bytes)"}, // never cuts a rune in two
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, capText(tt.in, tt.limit))
	}
	require.Equal(t, `"a\r\nb"`, quoted("a\r\nb", 10))
}

// The HTTP server's own log (http.Server.ErrorLog) is one escaped line per
// message too.
func TestRequestLogWrite(t *testing.T) {
	var got []string
	l := newRequestLog(func(format string, a ...any) { got = append(got, fmt.Sprintf(format, a...)) }, "")
	msg := []byte("http: TLS handshake error from 192.0.2.1:4000: \x16\x03garbage\r\nweb: forged\n")
	n, err := l.Write(msg)
	require.NoError(t, err)
	require.Equal(t, len(msg), n)
	require.Equal(t, []string{`web: http server: "http: TLS handshake error from 192.0.2.1:4000: \x16\x03garbage\r\nweb: forged"`}, got)
	_, err = newRequestLog(nil, "").Write([]byte("dropped\n"))
	require.NoError(t, err, "no Logf: nothing is logged")
}
