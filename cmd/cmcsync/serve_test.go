package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/web"
)

// syncBuffer is a bytes.Buffer safe for the daemon's goroutines and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveRun is a running `cmcsync serve` in the test's process.
type serveRun struct {
	url            string // http://127.0.0.1:PORT
	stdout, stderr *syncBuffer
	cancel         context.CancelFunc
	done           chan error
}

var openLine = regexp.MustCompile(`(?m)^open (http://[0-9.:]+)/`)

func startServe(t *testing.T, args ...string) *serveRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &serveRun{stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() {
		r.done <- run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...), r.stdout, r.stderr)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := openLine.FindStringSubmatch(r.stdout.String()); m != nil {
			r.url = m[1]
			break
		}
		select {
		case err := <-r.done:
			t.Fatalf("serve ended before serving: %v\nstdout:\n%s\nstderr:\n%s", err, r.stdout, r.stderr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve printed no URL\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		}
	}
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels the daemon's context (what SIGINT does) and waits for a
// clean return.
func (r *serveRun) stop(t *testing.T) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	require.NoError(t, <-r.done, "stderr:\n%s", r.stderr)
	require.Contains(t, r.stdout.String(), "cmcsync serve: stopped")
}

func (r *serveRun) call(t *testing.T, method, path, token, body string, out any) int {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, r.url+path, rd)
	require.NoError(t, err)
	if method != "GET" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if out != nil && resp.StatusCode < 300 {
		require.NoError(t, json.Unmarshal(b, out), "%s %s: %s", method, path, b)
	}
	return resp.StatusCode
}

func TestServeFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"primary alone", []string{"--primary", "sim:part=mx66l1g45g,size=8M"}, "both --primary and --backup"},
		{"bad spec", []string{"--primary", "sim:part=nope", "--backup", "sim:part=nope"}, "--primary"},
		{"unknown flag", []string{"--colour"}, "flag provided but not defined"},
		{"negative step", []string{"--cmc-step", "-1s"}, "--cmc-step"},
		{"extra args", []string{"now"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), append([]string{"serve", "--state", t.TempDir()}, tt.args...), &out, &errOut)
			var ee *exitError
			require.ErrorAs(t, err, &ee)
			require.Equal(t, 2, ee.code)
			require.Contains(t, ee.msg, tt.want)
		})
	}
}

func TestServeBusyAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	err = run(context.Background(), []string{"serve", "--state", dir, "--listen", ln.Addr().String()}, &out, &errOut)
	require.ErrorContains(t, err, "already in use")
	require.ErrorContains(t, err, "--listen")
	entries, _ := os.ReadDir(dir)
	require.Empty(t, entries, "nothing is created before the address is known to be free")
}

// TestServe runs the daemon on simulated chips in a state folder: the page
// and API work against the real engine, and a restart keeps the state.
func TestServe(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	r := startServe(t, "--state", dir, "--cmc-step", "20ms")
	out := r.stdout.String()
	require.Contains(t, out, "formatted both chips")
	token, err := os.ReadFile(filepath.Join(dir, web.TokenFile))
	require.NoError(t, err)
	tok := strings.TrimSpace(string(token))
	require.Contains(t, out, "#token="+tok, "the first start prints the token once")
	fi, err := os.Stat(filepath.Join(dir, web.TokenFile))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	resp, err := http.Get(r.url + "/")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(page), `id="explanation"`)

	var types []web.TypeInfo
	require.Equal(t, 200, r.call(t, "GET", "/api/types", "", "", &types))
	require.Len(t, types, 6)

	// Changes need the token.
	cfg := `{"types":["power","event-log"],"interval":"1h","threshold":"400ms","verify":true,"groupSize":0,"retryAtOnce":false}`
	require.Equal(t, 401, r.call(t, "PUT", "/api/config", "", cfg, nil))
	require.Equal(t, 400, r.call(t, "PUT", "/api/config", tok, `{"types":["power"],"interval":"1h","threshold":"0s"}`, nil))
	var got web.Config
	require.Equal(t, 200, r.call(t, "PUT", "/api/config", tok, cfg, &got))
	require.Equal(t, []string{"power", "event-log"}, got.Types)
	require.Equal(t, web.Duration(time.Hour), got.Interval)

	var st web.Status
	require.Equal(t, 200, r.call(t, "GET", "/api/status", "", "", &st))
	gen := st.Generation
	var round web.Round
	require.Equal(t, 200, r.call(t, "POST", "/api/sync", tok, "{}", &round))
	require.Equal(t, gen+1, round.Generation, "outcome %s %s", round.Outcome, round.Error)
	require.Equal(t, 200, r.call(t, "GET", "/api/status", "", "", &st))
	require.Equal(t, gen+1, st.Generation)

	// One image upgrade and its choice, end to end (the daemon's tests
	// cover both choices and the errors).
	require.Equal(t, 409, r.call(t, "POST", "/api/upgrade", tok, `{"choice":"keep-upgraded"}`, nil))
	require.Equal(t, 200, r.call(t, "POST", "/api/simulate/upgrade", tok, "{}", &st))
	require.NotNil(t, st.Upgrade)
	require.Equal(t, 409, r.call(t, "POST", "/api/sync", tok, "{}", nil), "no sync while the choice is pending")
	st = web.Status{}
	require.Equal(t, 200, r.call(t, "POST", "/api/upgrade", tok, `{"choice":"keep-upgraded"}`, &st))
	require.Nil(t, st.Upgrade)
	require.Equal(t, "1.1.0", st.ImageVersion)

	var rounds []web.Round
	require.Equal(t, 200, r.call(t, "GET", "/api/rounds", "", "", &rounds))
	require.GreaterOrEqual(t, len(rounds), 4) // the first scheduled round, sync now, detect, choice

	resp, err = http.Get(r.url + "/metrics")
	require.NoError(t, err)
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(metrics), "cmcsync_rounds_total ")
	require.Contains(t, string(metrics), "cmcsync_round_duration_seconds_count ")

	require.Equal(t, 200, r.call(t, "GET", "/api/status", "", "", &st))
	lastGen := st.Generation
	r.stop(t)

	// A restart keeps chips, configuration and token, and prints no token.
	r2 := startServe(t, "--state", dir, "--cmc-step", "0")
	out = r2.stdout.String()
	require.NotContains(t, out, "formatted")
	require.NotContains(t, out, tok)
	require.Contains(t, out, "API token: in "+filepath.Join(dir, web.TokenFile))
	require.Equal(t, 200, r2.call(t, "GET", "/api/config", "", "", &got))
	require.Equal(t, []string{"power", "event-log"}, got.Types)
	require.Equal(t, web.Duration(time.Hour), got.Interval)
	require.Equal(t, 200, r2.call(t, "GET", "/api/status", "", "", &st))
	require.GreaterOrEqual(t, st.Generation, lastGen)
	require.Equal(t, 200, r2.call(t, "POST", "/api/sync", tok, "{}", &round), "the old token still works")
}

func TestServeExplicitSpecs(t *testing.T) {
	dir := t.TempDir()
	a := "sim:part=mx66l1g45g,size=8M,file=" + filepath.Join(dir, "a.img")
	b := "sim:part=mx66l1g45g,size=8M,file=" + filepath.Join(dir, "b.img")
	r := startServe(t, "--state", dir, "--primary", a, "--backup", b, "--cmc-step", "0")
	require.Contains(t, r.stdout.String(), "formatted both chips")
	var st web.Status
	require.Equal(t, 200, r.call(t, "GET", "/api/status", "", "", &st))
	require.Equal(t, "primary", st.Active)
	require.True(t, st.CanSimulateUpgrade)
	r.stop(t)

	// One image missing: refuse rather than guess.
	require.NoError(t, os.Remove(filepath.Join(dir, "b.img")))
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"serve", "--state", dir, "--listen", "127.0.0.1:0", "--primary", a, "--backup", b}, &out, &errOut)
	require.ErrorContains(t, err, "--format")
	require.False(t, errors.Is(err, context.Canceled))
}

// TestServeHelperProcess is not a test: TestServeKilled runs the test
// binary with CMCSYNC_SERVE_HELPER set to run the daemon in a process it can
// kill.
func TestServeHelperProcess(t *testing.T) {
	if os.Getenv("CMCSYNC_SERVE_HELPER") == "" {
		return
	}
	args := strings.Split(os.Getenv("CMCSYNC_SERVE_HELPER"), "\x1f")
	err := run(context.Background(), append([]string{"serve"}, args...), os.Stdout, os.Stderr)
	if err != nil {
		os.Exit(1)
	}
	os.Exit(0)
}

// TestServeKilled kills the daemon (SIGKILL) while rounds and the simulated
// CMC run, wherever that lands, and starts it again on the same state
// folder: it opens (the engine's recovery purges a cut round, if the kill
// cut one; the log says so) and rounds commit again. The exact recovery of
// every cut point is the fault harness's job.
func TestServeKilled(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	var stdout syncBuffer
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeHelperProcess$")
	cmd.Env = append(os.Environ(), "CMCSYNC_SERVE_HELPER="+strings.Join([]string{"--state", dir, "--listen", "127.0.0.1:0", "--cmc-step", "1ms"}, "\x1f"))
	cmd.Stdout = &stdout
	cmd.Stderr = io.Discard
	require.NoError(t, cmd.Start())
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	var url string
	for deadline := time.Now().Add(30 * time.Second); url == ""; {
		if m := openLine.FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("the helper printed no URL:\n%s", stdout.String())
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
	tok, err := os.ReadFile(filepath.Join(dir, web.TokenFile))
	require.NoError(t, err)
	r := &serveRun{url: url}
	require.Equal(t, 200, r.call(t, "PUT", "/api/config", strings.TrimSpace(string(tok)), `{"types":["power","fan","node","event-log","fault-log","asset"],"interval":"1s","threshold":"1s","verify":true,"groupSize":0,"retryAtOnce":false}`, nil))
	var st web.Status
	for deadline := time.Now().Add(30 * time.Second); st.Generation < 3; {
		require.Equal(t, 200, r.call(t, "GET", "/api/status", "", "", &st))
		require.False(t, time.Now().After(deadline), "no rounds ran")
		time.Sleep(50 * time.Millisecond)
	}
	// Kill while syncing: keep asking for rounds so one is likely in flight.
	go func() {
		for {
			req, _ := http.NewRequest("POST", url+"/api/sync", strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			} else {
				return
			}
		}
	}()
	time.Sleep(200 * time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	cmd.Wait()
	killed = true

	r2 := startServe(t, "--state", dir, "--cmc-step", "0")
	require.Equal(t, 200, r2.call(t, "GET", "/api/status", "", "", &st))
	before := st.Generation
	require.GreaterOrEqual(t, before, uint64(3))
	var evs []web.Event
	require.Equal(t, 200, r2.call(t, "GET", "/api/events", "", "", &evs))
	for _, ev := range evs {
		if ev.Kind == "recovery" || ev.Kind == "purge" || ev.Kind == "purge-verified" || ev.Kind == "reinit" {
			t.Logf("after the kill: %s gen=%d %s", ev.Kind, ev.Generation, ev.Detail)
		}
	}
	var round web.Round
	require.Equal(t, 200, r2.call(t, "POST", "/api/sync", strings.TrimSpace(string(tok)), "{}", &round))
	require.Equal(t, before+1, round.Generation, "outcome %s %s", round.Outcome, round.Error)
	require.Contains(t, []string{"committed", "nothing-changed"}, round.Outcome)
}
