//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/web"
)

// TestServeStopsCleanlyOnSignals: SIGINT (Ctrl-C), SIGTERM (systemctl
// stop) and SIGHUP (the terminal or SSH session serve runs in went away)
// each stop serve cleanly: it finishes or abandons its round, says it
// stopped, notes the stop in the history and exits 0. (SIGHUP used to end
// the process at once, by Go's default action, like a kill.)
func TestServeStopsCleanlyOnSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			if sig == syscall.SIGHUP && signal.Ignored(syscall.SIGHUP) {
				// The tests run under nohup: serve would inherit SIGHUP
				// ignored and keep it so (main.go), as it must. A handler
				// here makes the helper start with the default action.
				c := make(chan os.Signal, 1)
				signal.Notify(c, syscall.SIGHUP)
				defer signal.Stop(c)
			}
			dir := filepath.Join(t.TempDir(), "state")
			r := startServeProcess(t, "--state", dir, "--cmc-step", "0", "--scrub-every", "0")
			var st web.Status
			require.Equal(t, 200, r.call(t, "GET", "/api/status", "", "", &st))
			r.cancel = func() { r.signal(t, sig) }
			r.stop(t) // exit 0, "cmcsync serve: stopped"

			r2 := startServe(t, "--state", dir, "--cmc-step", "0", "--scrub-every", "0")
			var evs []web.Event
			require.Equal(t, 200, r2.call(t, "GET", "/api/events?limit=10000", "", "", &evs))
			stops := 0
			for _, ev := range evs {
				if ev.Kind == "stop" {
					stops++
				}
			}
			require.Equal(t, 1, stops, "the first run's stop is in the history")
		})
	}
}

// signal sends sig to the helper process serve runs in.
func (r *serveRun) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	require.NotNil(t, r.proc)
	require.NoError(t, r.proc.Signal(sig))
}

// TestServeSecondSignalEndsAtOnce: a stop that waits (here for a failover
// action that hangs: the daemon waits for it, up to
// --on-failover-timeout, so its result reaches the history) is cut short
// by a second signal: the process ends at once, as a kill would (the next
// start recovers).
func TestServeSecondSignalEndsAtOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	cmd := helperCommand("--listen", "127.0.0.1:0", "--state", dir, "--cmc-step", "0", "--scrub-every", "0",
		"--faults", "(on (and primary read (after 16000)) (delay 3s))",
		"--on-failover", "/bin/sleep 600", "--on-failover-timeout", "1h")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the hook's sleep is killed with it
	r := &serveRun{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = r.stdout, r.stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	go func() { r.done <- cmd.Wait() }()
	r.waitForURL(t, func() { cmd.Process.Kill() })

	// Wait for the failover: its action (sleep 600) is running then.
	for deadline := time.Now().Add(30 * time.Second); ; {
		var evs []web.Event
		require.Equal(t, 200, r.call(t, "GET", "/api/events?limit=10000", "", "", &evs))
		if strings.Contains(eventKinds(evs), "failover") {
			break
		}
		require.False(t, time.Now().After(deadline), "no failover\nstderr:\n%s", r.stderr)
		time.Sleep(50 * time.Millisecond)
	}

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-r.done:
		t.Fatalf("serve did not wait for the running failover action: %v\nstderr:\n%s", err, r.stderr)
	case <-time.After(500 * time.Millisecond):
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-r.done:
		var ee *exec.ExitError
		require.True(t, errors.As(err, &ee), "%v", err)
		ws := ee.Sys().(syscall.WaitStatus)
		require.True(t, ws.Signaled() && ws.Signal() == syscall.SIGTERM, "ended by the second SIGTERM: %v", ws)
	case <-time.After(10 * time.Second):
		t.Fatalf("a second SIGTERM did not end serve\nstderr:\n%s", r.stderr)
	}
}

// eventKinds is the events' kinds, space-separated.
func eventKinds(evs []web.Event) string {
	var kinds []string
	for _, ev := range evs {
		kinds = append(kinds, ev.Kind)
	}
	return strings.Join(kinds, " ")
}

// TestServeRefusesAnAltBootItCannotRun: builtin:ast2600-alt-boot maps the
// FMC's registers through /dev/mem; where it cannot (no /dev/mem here, or
// a sandbox or user without it), serve refuses at its start (exit 2)
// rather than at the first failover, when the action is needed.
func TestServeRefusesAnAltBootItCannotRun(t *testing.T) {
	if _, err := os.Stat("/dev/mem"); err == nil {
		t.Skip("/dev/mem exists here: whether it maps the FMC depends on the machine")
	}
	state := t.TempDir()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // a serve that starts stops then
	defer cancel()
	err := run(ctx, []string{"serve", "--state", state, "--listen", "127.0.0.1:0", "--on-failover", "builtin:ast2600-alt-boot"}, &out, &errOut)
	var ee *exitError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, exitUsage, ee.code)
	require.ErrorContains(t, err, "--on-failover: builtin:ast2600-alt-boot cannot reach its registers")
	require.ErrorContains(t, err, "/dev/mem")
	entries, err := os.ReadDir(state)
	require.NoError(t, err)
	require.Empty(t, entries, "nothing created before the refusal")
}

// TestServeOutlivesItsLogReader: the reader of serve's standard error
// going away (a journald restart, a `| tee` or `| logger` that ended)
// must not end serve: its log lines are lost, it serves and syncs on, and
// stops cleanly. (Go ends a program whose write to a broken pipe on fd 1
// or 2 fails with SIGPIPE, unless it asks for the signal.)
func TestServeOutlivesItsLogReader(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	cmd := helperCommand("--listen", "127.0.0.1:0", "--state", dir, "--cmc-step", "0", "--scrub-every", "0")
	rd, wr, err := os.Pipe()
	require.NoError(t, err)
	r := &serveRun{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = r.stdout, wr
	require.NoError(t, rd.Close()) // no reader, before serve writes a line
	require.NoError(t, cmd.Start())
	wr.Close()
	r.proc = cmd.Process
	go func() { r.done <- cmd.Wait() }()
	r.cancel = func() { cmd.Process.Signal(syscall.SIGTERM) }
	r.waitForURL(t, func() { cmd.Process.Kill() })
	t.Cleanup(func() { r.stop(t) })

	tok, err := os.ReadFile(filepath.Join(dir, web.TokenFile))
	require.NoError(t, err)
	var st web.Status
	for range 3 { // rounds log lines to the broken pipe
		require.Equal(t, 200, r.call(t, "POST", "/api/sync", strings.TrimSpace(string(tok)), "{}", nil))
	}
	require.Equal(t, 200, r.call(t, "GET", "/api/status", "", "", &st))
	require.Positive(t, st.Generation)
}
