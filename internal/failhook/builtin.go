package failhook

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/cmcsync/cmcsync/internal/altboot"
)

// BuiltinAltBoot is the built-in that arms the AST2600's alternate-boot
// watchdog (package altboot) so the SoC resets into the other boot flash.
const BuiltinAltBoot = "ast2600-alt-boot"

// builtins are the built-in actions by name.
var builtins = map[string]func() Action{
	BuiltinAltBoot: func() Action {
		return &AltBoot{Open: func() (altboot.Regs, error) { return altboot.OpenDevMem(altboot.FMCBase) }, Timeout: altboot.DefaultTimeout}
	},
}

// Builtins returns the names of the built-in actions.
func Builtins() []string {
	var names []string
	for n := range builtins {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// AltBoot arms the alternate-boot watchdog: Open gives the FMC registers
// (/dev/mem on the BMC, a fake in tests), Timeout is when it resets the
// SoC.
type AltBoot struct {
	Open    func() (altboot.Regs, error)
	Timeout time.Duration
}

// Name is BuiltinAltBoot with the builtin: prefix.
func (a *AltBoot) Name() string { return BuiltinPrefix + BuiltinAltBoot }

// Run arms the watchdog once.
func (a *AltBoot) Run(_ context.Context, ev Event) Result {
	start := time.Now()
	r := Result{Action: a.Name(), ExitCode: -1}
	regs, err := a.Open()
	if err != nil {
		r.Err, r.Duration = err, time.Since(start)
		return r
	}
	alt, err := altboot.Arm(regs, a.Timeout)
	if cerr := regs.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("alt-boot: %w", cerr)
	}
	r.Duration = time.Since(start)
	if err != nil {
		r.Err = err
		return r
	}
	from := "the primary boot flash (CS0)"
	if alt {
		from = "the alternate boot flash (CS1)"
	}
	r.ExitCode = 0
	r.Output = fmt.Sprintf("FMC WDT2 armed: the SoC resets in %v and boots from the other flash than %s (chip %d, %s, is now active)", a.Timeout, from, ev.ActiveChip, ev.ActiveDevice)
	return r
}
