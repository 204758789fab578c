package main

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSystemdUnitRestartsACrash: the unit restarts serve after a crash:
// a panic, and the SIGABRT with which systemd's watchdog kills a serve
// whose pings stopped. Go's runtime ends both with exit status 2 (after
// printing the goroutines), which RestartPreventExitStatus=2 (bad
// configuration) keeps from being restarted; under the environment the
// unit sets (GOTRACEBACK=crash) the process dies by SIGABRT instead,
// which no exit status in RestartPreventExitStatus matches.
func TestSystemdUnitRestartsACrash(t *testing.T) {
	b, err := os.ReadFile("../../deploy/systemd/cmcsync.service")
	require.NoError(t, err)
	var env, prevent []string
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Environment="); ok {
			env = append(env, strings.Fields(v)...)
		}
		if v, ok := strings.CutPrefix(line, "RestartPreventExitStatus="); ok {
			prevent = strings.Fields(v)
		}
	}
	require.Contains(t, prevent, "2")
	for _, crash := range []string{"panic", "watchdog-abort"} {
		t.Run(crash, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelperProcess$")
			cmd.Env = append(append(os.Environ(), "GOTRACEBACK="), env...)
			cmd.Env = append(cmd.Env, "CMCSYNC_CRASH_HELPER="+crash)
			err := cmd.Run()
			var ee *exec.ExitError
			require.ErrorAs(t, err, &ee)
			ws := ee.Sys().(syscall.WaitStatus)
			if ws.Exited() {
				require.NotContains(t, prevent, strconv.Itoa(ws.ExitStatus()), "a %s ends with an exit status the unit never restarts", crash)
			}
		})
	}
}

// TestCrashHelperProcess is not a test: TestSystemdUnitRestartsACrash runs
// the test binary with CMCSYNC_CRASH_HELPER set to crash as serve would.
func TestCrashHelperProcess(t *testing.T) {
	how := os.Getenv("CMCSYNC_CRASH_HELPER")
	if how == "" {
		return
	}
	syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{}) // no core file
	switch how {
	case "panic":
		go panic("cmcsync: a crash")
	case "watchdog-abort":
		syscall.Kill(os.Getpid(), syscall.SIGABRT) // what systemd's watchdog sends (WatchdogSignal)
	}
	time.Sleep(10 * time.Second)
	os.Exit(0)
}
