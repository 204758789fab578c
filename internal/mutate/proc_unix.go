//go:build unix

package mutate

import (
	"os/exec"
	"syscall"
)

// setProcessGroup makes cancelling cmd stop the go command and the test
// binaries it started, then call last with the group's id while they are
// stopped (nothing runs: what it reads of them is final), then kill them.
func setProcessGroup(cmd *exec.Cmd, last func(pgid int)) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		pg := cmd.Process.Pid
		_ = syscall.Kill(-pg, syscall.SIGSTOP)
		last(pg)
		return syscall.Kill(-pg, syscall.SIGKILL)
	}
}
