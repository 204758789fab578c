package bench

import (
	"errors"
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
)

// resolveParts returns the parts c benchmarks — the named parts of sim's
// table, then c.Profiles — and a warning for each implausible profile that
// c.AllowImplausible lets run. Names must be unique across both.
func (c Config) resolveParts() ([]sim.Part, []string, error) {
	var parts []sim.Part
	var warnings []string
	seen := map[string]bool{}
	for _, name := range c.Parts {
		p, err := sim.LookupPart(name)
		if err != nil {
			return nil, nil, err
		}
		parts = append(parts, p)
	}
	for _, p := range c.Profiles {
		warning, err := CheckProfile(p, c.AllowImplausible)
		if err != nil {
			return nil, nil, err
		}
		if warning != "" {
			warnings = append(warnings, warning)
		}
		parts = append(parts, p)
	}
	for _, p := range parts {
		if p.Kind != hal.NOR {
			return nil, nil, fmt.Errorf("part %s is %v: the benchmark compares NOR strategies (flashcp, in-place diff); pick a NOR part", p.Name, p.Kind)
		}
		if seen[p.Name] {
			return nil, nil, fmt.Errorf("part %s is given twice (a profile's name must differ from the other parts')", p.Name)
		}
		seen[p.Name] = true
	}
	return parts, warnings, nil
}

// CheckProfile is the validation hook every part profile given to the
// bench (Config.Profiles) goes through: the part must be well-formed
// (sim.Part.Validate) and physically plausible (sim.Part.CheckPlausible).
// An implausible part is refused with an error wrapping sim.ErrImplausible
// unless allowImplausible, which returns a warning to report instead: its
// rows then measure the profile, not any flash chip.
func CheckProfile(p sim.Part, allowImplausible bool) (warning string, err error) {
	if err := p.Validate(); err != nil {
		return "", err
	}
	err = p.CheckPlausible()
	switch {
	case err == nil:
		return "", nil
	case !errors.Is(err, sim.ErrImplausible):
		return "", err
	case !allowImplausible:
		return "", fmt.Errorf("%w (allow it with Config.AllowImplausible, cmcsync bench --allow-implausible, to benchmark the profile as it is)", err)
	}
	return fmt.Sprintf("profile %s runs although %v: its rows measure the profile, not a flash chip", p.Name, err), nil
}
