package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPrintToken: the API token is printed only when it was just created
// and the output is a terminal; a log (the systemd journal) gets the
// token file's name, never the token.
func TestPrintToken(t *testing.T) {
	const token = "0XMk6LMu9Xt5fyv6o_dcL6m1DOA0yKgjtaD27CUVzYI"
	for _, tt := range []struct {
		name          string
		created, tty  bool
		showsToken    bool
		wantFileNamed string
	}{
		{"first start on a terminal", true, true, true, "kept in /s/api-token"},
		{"first start to a log", true, false, false, "created in /s/api-token"},
		{"later start on a terminal", false, true, false, "in /s/api-token"},
		{"later start to a log", false, false, false, "in /s/api-token"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			printToken(&b, "/s", "http://127.0.0.1:8080/", token, tt.created, tt.tty)
			out := b.String()
			require.Contains(t, out, tt.wantFileNamed)
			require.Contains(t, out, "open http://127.0.0.1:8080/")
			if tt.showsToken {
				require.Contains(t, out, "open http://127.0.0.1:8080/#token="+token)
				return
			}
			require.NotContains(t, out, token)
		})
	}
	require.False(t, isTerminal(&bytes.Buffer{}))
}
