package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSystemdUnit: the unit is Type=notify with a watchdog, runs serve
// with the example configuration's path, does not restart on exit 2 or 3,
// and systemd-analyze verify accepts it.
func TestSystemdUnit(t *testing.T) {
	b, err := os.ReadFile("../../deploy/systemd/cmcsync.service")
	require.NoError(t, err)
	unit := string(b)
	for _, line := range []string{
		"Type=notify",
		"ExecStart=/usr/bin/cmcsync serve --config /etc/cmcsync/cmcsync.json",
		"WatchdogSec=60",
		"RestartPreventExitStatus=2 3",
		"StateDirectory=cmcsync",
		"DeviceAllow=char-mtd rw",
	} {
		require.Contains(t, unit, "\n"+line+"\n")
	}
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if testing.Short() {
			t.Skip("systemd-analyze not installed")
		}
		t.Fatalf("systemd-analyze is needed to verify the unit (Debian: apt-get install systemd): %v", err)
	}
	// verify wants the executable to exist: point it at one that does.
	dir := t.TempDir()
	p := filepath.Join(dir, "cmcsync.service")
	require.NoError(t, os.WriteFile(p, []byte(strings.ReplaceAll(unit, "/usr/bin/cmcsync", "/bin/true")), 0o644))
	out, err := exec.Command(sa, "verify", "--man=no", p).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Empty(t, strings.TrimSpace(string(out)), "systemd-analyze verify warns")

	bad := filepath.Join(dir, "bad.service")
	require.NoError(t, os.WriteFile(bad, []byte(strings.ReplaceAll(unit, "/usr/bin/cmcsync", "/bin/true")+"\n[Service]\nTypo=notify\n"), 0o644))
	out, _ = exec.Command(sa, "verify", "--man=no", bad).CombinedOutput()
	require.Contains(t, string(out), "Typo", "verify reports a wrong key (the check above can fail)")
}
