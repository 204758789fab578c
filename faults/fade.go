package faults

import "fmt"

// Fade makes [Lo, Hi) of the device Role (clipped to the device) weakly
// held just before the operation, which then runs: cells that turned
// marginal while nothing touched them (charge lost since their program).
// As after a [Weak] program, the next read of those bytes through the
// injector returns them right and later reads return them differently,
// until they are programmed or erased again. A reader that reads a
// record twice sees it change. Text: "(fade ROLE LO HI)".
type Fade struct {
	Role   Role
	Lo, Hi int64
}

func (a Fade) String() string { return fmt.Sprintf("(fade %v %#x %#x)", a.Role, a.Lo, a.Hi) }
func (Fade) outcome() bool    { return false }
func (a Fade) validate() error {
	if err := validRegion(a.Role, a.Lo, a.Hi); err != nil {
		return fmt.Errorf("fade: %w", err)
	}
	return nil
}

// fade runs a Fade action. The caller holds in.mu.
func (in *Injector) fade(a Fade) {
	lo, hi, ok := in.clip(in.devices[a.Role], a.Lo, a.Hi)
	if !ok {
		return
	}
	in.weaken(a.Role, lo, hi-lo)
}
