//go:build unix

package mutate

import (
	"os/exec"
	"syscall"
)

// setProcessGroup makes cancelling cmd kill the go command and the test
// binaries it started.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
