//go:build !unix

package mutate

import "os/exec"

// setProcessGroup: without process groups, cancelling kills the go
// command only.
func setProcessGroup(*exec.Cmd, func(int)) {}
