package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestServeConnLimitErrors: a connection limit out of range, from a flag
// or the configuration file, is bad input (exit 2) found before serve
// listens or touches anything: the address given is one the test holds,
// so a serve that went on to listen would answer "already in use" (3).
func TestServeConnLimitErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	tests := []struct {
		name string
		args []string
		file string // configuration file contents, if any
		want string
	}{
		{"zero", []string{"--max-conns", "0"}, "", "--max-conns 0, --max-conns-per-client 16: max connections 0 is out of range: give 1 to 4096"},
		{"negative", []string{"--max-conns", "-5"}, "", "--max-conns -5"},
		{"huge", []string{"--max-conns", "4097"}, "", "max connections 4097 is out of range: give 1 to 4096 (default 128)"},
		{"beyond an int", []string{"--max-conns", "99999999999999999999"}, "", `invalid value "99999999999999999999" for flag -max-conns`},
		{"per client zero", []string{"--max-conns-per-client", "0"}, "", "--max-conns 128, --max-conns-per-client 0: max connections per client 0 is out of range: give 1 to the max connections, 128"},
		{"per client beyond all", []string{"--max-conns", "8", "--max-conns-per-client", "9"}, "", "per client 9 is out of range"},
		{"file", nil, `{"max_conns": 4097}`, "max_conns 4097 (FILE:1)"},
		{"file per client", nil, `{"max_conns": 4, "max_conns_per_client": 5}`, "max_conns 4 (FILE:1), max_conns_per_client 5 (FILE:1)"},
		{"file huge", nil, `{"max_conns": 18446744073709551615}`, "FILE:1: max_conns: value out of range"},
		{"flag over the file's", []string{"--max-conns-per-client", "0"}, `{"max_conns_per_client": 3}`, "--max-conns-per-client 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			state := filepath.Join(dir, "state")
			args := append([]string{"serve", "--state", state, "--listen", busy.Addr().String()}, tt.args...)
			want := tt.want
			if tt.file != "" {
				cfg := filepath.Join(dir, "cmcsync.json")
				require.NoError(t, os.WriteFile(cfg, []byte(tt.file), 0o600))
				args = append(args, "--config", cfg)
				want = strings.ReplaceAll(want, "FILE", cfg)
			}
			_, _, err := runCLI(args...)
			require.Equal(t, 2, statusOf(err), "%v", err)
			require.ErrorContains(t, err, want)
			_, serr := os.Stat(state)
			require.ErrorIs(t, serr, os.ErrNotExist, "bad input touches nothing")
		})
	}
}

// TestServeConnLimitsApply: the per-client bound serve runs with is the
// one its configuration file or flag gives (the flag over the file), and
// the defaults start: with a bound of N, the client's N+1st connection,
// all of them silent, replaces its first (closed at once) and the others
// are served; /metrics shows the limits in force.
func TestServeConnLimitsApply(t *testing.T) {
	tests := []struct {
		name         string
		file         string
		args         []string
		conns, bound int
	}{
		{"file", `{"max_conns_per_client": 1}`, nil, 128, 1},
		{"flag over the file", `{"max_conns_per_client": 1}`, []string{"--max-conns-per-client", "2"}, 128, 2},
		{"max conns below the per-client default", `{"max_conns": 3}`, nil, 3, 3},
		{"flags", `{}`, []string{"--max-conns", "64", "--max-conns-per-client", "4"}, 64, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "cmcsync.json")
			require.NoError(t, os.WriteFile(cfg, []byte(tt.file), 0o600))
			r := startServe(t, append([]string{"--state", filepath.Join(dir, "state"), "--cmc-step", "0", "--config", cfg}, tt.args...)...)
			addr := strings.TrimPrefix(r.url, "http://")
			dial := func() net.Conn {
				c, err := net.Dial("tcp", addr)
				require.NoError(t, err)
				t.Cleanup(func() { c.Close() })
				require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second))) // a failure bound
				return c
			}
			first := dial()
			var held []net.Conn
			for range tt.bound {
				held = append(held, dial()) // the last one is beyond the bound
			}
			_, err := first.Read(make([]byte, 1))
			var ne net.Error
			require.True(t, errors.Is(err, io.EOF) || (err != nil && !(errors.As(err, &ne) && ne.Timeout())), "the first connection is closed at once for the one beyond the bound: %v", err)
			// Each held connection is served. The last one then asks for
			// /metrics itself: a new connection would be one more of this
			// client's, refused at once while the server has not yet
			// counted the others' closes (the client sees a Connection:
			// close answer before the server's Close frees its place),
			// which made the bound-1 case fail under load.
			var metrics string
			for i, c := range held {
				last := i == len(held)-1
				conn := "close"
				if last {
					conn = "keep-alive"
				}
				_, err := io.WriteString(c, "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: "+conn+"\r\n\r\n")
				require.NoError(t, err)
				br := bufio.NewReader(c)
				resp, err := http.ReadResponse(br, nil)
				require.NoError(t, err, "a connection within the bound is served")
				_, err = io.Copy(io.Discard, resp.Body)
				require.NoError(t, err)
				resp.Body.Close()
				require.Equal(t, http.StatusOK, resp.StatusCode)
				if !last {
					continue
				}
				// /metrics shows the limits the server enforces.
				_, err = io.WriteString(c, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "+tokenOf(t, filepath.Join(dir, "state"))+"\r\nConnection: close\r\n\r\n")
				require.NoError(t, err)
				resp, err = http.ReadResponse(br, nil)
				require.NoError(t, err)
				b, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				resp.Body.Close()
				require.Equal(t, http.StatusOK, resp.StatusCode)
				metrics = string(b)
			}
			require.Contains(t, metrics, fmt.Sprintf("cmcsync_http_limit{limit=%q} %d\n", "max_conns", tt.conns))
			require.Contains(t, metrics, fmt.Sprintf("cmcsync_http_limit{limit=%q} %d\n", "max_conns_per_client", tt.bound))
		})
	}
}
