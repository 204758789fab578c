package failhook

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/internal/altboot"
)

var event = Event{ActiveChip: 1, ActiveDevice: "sim:part=mx66l1g45g,size=8M,name=flash1", Generation: 42,
	Reason: "wait-response 3s exceeds threshold 2s: flash1 is now active", Time: time.Date(2026, 12, 5, 8, 30, 0, 0, time.UTC)}

// script writes an executable shell script and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "hook")
	require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755))
	return p
}

func TestCommandGetsTheEvent(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "env")
	a, err := Parse(script(t, `env | grep ^CMCSYNC_ | sort > "$1"; echo "hook saw $CMCSYNC_ACTIVE_CHIP"`)+" "+out, 5*time.Second)
	require.NoError(t, err)
	r := a.Run(context.Background(), event)
	require.True(t, r.OK(), r.String())
	require.Equal(t, 0, r.ExitCode)
	require.Equal(t, "hook saw 1\n", r.Output)
	got, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, []string{
		"CMCSYNC_ACTIVE_CHIP=1",
		"CMCSYNC_ACTIVE_DEVICE=sim:part=mx66l1g45g,size=8M,name=flash1",
		"CMCSYNC_EVENT=failover",
		"CMCSYNC_GENERATION=42",
		"CMCSYNC_REASON=wait-response 3s exceeds threshold 2s: flash1 is now active",
		"CMCSYNC_TIME=2026-12-05T08:30:00Z",
	}, strings.Split(strings.TrimSpace(string(got)), "\n"), "env: %s", got)
}

func TestCommandFailures(t *testing.T) {
	for _, tc := range []struct {
		name     string
		spec     string
		timeout  time.Duration
		exit     int
		err      string
		output   string
		maxTaken time.Duration
	}{
		{"exit status", script(t, "echo boom >&2; exit 3"), 5 * time.Second, 3, "exit status 3", "boom\n", 5 * time.Second},
		{"hangs", script(t, "echo waiting; exec sleep 30"), 200 * time.Millisecond, -1, "killed after the 200ms timeout", "waiting\n", 5 * time.Second},
		{"missing", "/nonexistent/cmcsync-hook", 5 * time.Second, -1, "no such file", "", 5 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Parse(tc.spec, tc.timeout)
			require.NoError(t, err)
			r := a.Run(context.Background(), event)
			require.False(t, r.OK())
			require.Equal(t, tc.exit, r.ExitCode)
			require.ErrorContains(t, r.Err, tc.err)
			require.Equal(t, tc.output, r.Output)
			require.Less(t, r.Duration, tc.maxTaken)
			require.True(t, strings.HasPrefix(r.String(), "FAILED: "), r.String())
		})
	}
}

func TestOutputTail(t *testing.T) {
	a, err := Parse(script(t, `i=0; while [ $i -lt 600 ]; do echo line$i; i=$((i+1)); done`), 5*time.Second)
	require.NoError(t, err)
	r := a.Run(context.Background(), event)
	require.True(t, r.OK(), r.String())
	require.LessOrEqual(t, len(r.Output), OutputTail+len("…"))
	require.True(t, strings.HasPrefix(r.Output, "…"))
	require.True(t, strings.HasSuffix(r.Output, "line599\n"))
}

func TestParse(t *testing.T) {
	a, err := Parse("  /usr/bin/logger -t cmcsync  failover ", 0)
	require.NoError(t, err)
	require.Equal(t, &Command{Argv: []string{"/usr/bin/logger", "-t", "cmcsync", "failover"}, Timeout: DefaultTimeout}, a)
	_, err = Parse(" ", 0)
	require.ErrorIs(t, err, ErrEmpty)
	_, err = Parse("builtin:ast2500-alt-boot", 0)
	require.ErrorIs(t, err, ErrBuiltin)
	require.ErrorContains(t, err, "known: ast2600-alt-boot")
	a, err = Parse("builtin:ast2600-alt-boot", 0)
	require.NoError(t, err)
	require.Equal(t, "builtin:ast2600-alt-boot", a.Name())
}

func TestAltBootAction(t *testing.T) {
	f := &altboot.Fake{}
	a := &AltBoot{Open: func() (altboot.Regs, error) { return f, nil }, Timeout: 10 * time.Second}
	r := a.Run(context.Background(), event)
	require.True(t, r.OK(), r.String())
	require.Equal(t, []altboot.Write{{Off: 0x64, Value: 0}, {Off: 0x68, Value: 100}, {Off: 0x6C, Value: 0x4755}, {Off: 0x64, Value: 1}}, f.Writes)
	require.True(t, f.Closed)
	require.Contains(t, r.Output, "resets in 10s")

	a.Open = func() (altboot.Regs, error) { return nil, errors.New("open /dev/mem: permission denied") }
	r = a.Run(context.Background(), event)
	require.False(t, r.OK())
	require.ErrorContains(t, r.Err, "permission denied")
}

// TestCheck: Check finds at start what would keep an action from running
// at a failover: the built-in's registers it cannot map (a service
// sandbox without /dev/mem, a user without CAP_SYS_RAWIO), opened and
// closed again without a write; a command that is not there.
func TestCheck(t *testing.T) {
	f := &altboot.Fake{}
	ok := &AltBoot{Open: func() (altboot.Regs, error) { return f, nil }, Timeout: 10 * time.Second}
	require.NoError(t, Check(ok))
	require.True(t, f.Closed)
	require.Empty(t, f.Writes, "a check arms nothing")

	denied := &AltBoot{Open: func() (altboot.Regs, error) { return nil, errors.New("open /dev/mem: operation not permitted") }}
	err := Check(denied)
	require.ErrorContains(t, err, "operation not permitted")
	require.ErrorContains(t, err, "CAP_SYS_RAWIO")

	require.NoError(t, Check(&Command{Argv: []string{"/bin/true"}}))
	require.ErrorContains(t, Check(&Command{Argv: []string{"/nonexistent/hook"}}), `exec: "/nonexistent/hook"`)
}
