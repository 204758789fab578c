package failhook

import (
	"fmt"
	"os/exec"
)

// Checker is an action that can tell, before any failover, whether it
// could run: cmcsync serve checks its action at its start, so an action
// that cannot run is found then, not at the failover that needs it.
type Checker interface {
	Check() error
}

// Check checks a (Checker); an action that is no Checker passes.
func Check(a Action) error {
	if c, ok := a.(Checker); ok {
		return c.Check()
	}
	return nil
}

// Check finds the command on PATH (or at its path) as an executable file.
func (c *Command) Check() error {
	if _, err := exec.LookPath(c.Argv[0]); err != nil {
		return fmt.Errorf("%w (give the path of an executable command, or builtin:NAME)", err)
	}
	return nil
}

// Check opens the registers and closes them again, writing nothing.
func (a *AltBoot) Check() error {
	regs, err := a.Open()
	if err != nil {
		return fmt.Errorf("%s cannot reach its registers: %w (it maps the FMC's registers through /dev/mem: it needs root or CAP_SYS_RAWIO, /dev/mem among the service's devices, and a kernel whose CONFIG_STRICT_DEVMEM lets /dev/mem reach the FMC; see docs/DEPLOY.md, Failover action)", a.Name(), err)
	}
	return regs.Close()
}
