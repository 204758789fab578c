package chipstate

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// ErrRefused is wrapped by CheckFormat's error: a chip holds data a format
// would erase and the user did not name it with --force.
var ErrRefused = errors.New("refused: formatting would erase data")

// Chip is one chip a format would write: its name on the command line
// ("primary", "backup"), the spec it was opened from, the open flash, and
// whether --force names it.
type Chip struct {
	Name  string
	Spec  string
	Flash hal.Flash
	Force bool
}

// CheckFormat surveys each chip in the places of layout l and refuses
// (ErrRefused) when one the user did not force holds anything: a store, a
// region header of any size, or any byte that is not erased. The error
// says what each chip holds, that formatting erases it, and the --force
// that would name the chips, as action (e.g. "--format").
func CheckFormat(chips []Chip, l engine.Layout, action string) error {
	var held, names []string
	for _, c := range chips {
		got, err := Survey(c.Flash, l)
		if err != nil {
			return fmt.Errorf("%s (%s): %w", c.Name, c.Spec, err)
		}
		if got.Erased() || c.Force {
			continue
		}
		held = append(held, fmt.Sprintf("%s (%s) holds %s", c.Name, c.Spec, got))
		names = append(names, c.Name)
	}
	if len(held) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s refused: %s. %s erases the information region and the store of the chips named; if their data is not needed, run again with %s --force=%s",
		ErrRefused, action, strings.Join(held, "; "), action, action, strings.Join(names, ","))
}

// ParseForce parses --force's value, a comma-separated list of chip names
// out of names; it returns which are named.
func ParseForce(s string, names ...string) ([]bool, error) {
	out := make([]bool, len(names))
	if s == "" {
		return out, nil
	}
	for _, w := range strings.Split(s, ",") {
		i := -1
		for j, n := range names {
			if strings.TrimSpace(w) == n {
				i = j
			}
		}
		if i < 0 {
			return nil, fmt.Errorf("--force=%s: %q is not a chip (name %s)", s, w, strings.Join(names, " or "))
		}
		out[i] = true
	}
	return out, nil
}

// bootNames are partition names that hold what a board boots from.
var bootNames = []string{"u-boot", "uboot", "u-boot-env", "uboot-env", "env", "spl", "bootloader", "boot", "kernel", "rootfs", "dtb", "fit", "image", "bmc"}

// CheckScratch refuses (ErrRefused) a destructive test (action, e.g.
// "selftest") on an MTD device unless force is set, when the device is
// not one of configured (the chips a configuration file names as
// cmcsync's; nil when no file was given) or when its partition name
// (partName, as /proc/mtd lists it) is one a board boots from.
func CheckScratch(action, device, partName string, configured []string, force bool) error {
	if force {
		return nil
	}
	label := device
	if partName != "" {
		label = fmt.Sprintf("%s (%q)", device, partName)
	}
	lower := strings.ToLower(partName)
	for _, b := range bootNames {
		if lower == b || strings.HasPrefix(lower, b+"-") || strings.HasPrefix(lower, b+"_") || strings.HasPrefix(lower, b+"0") || strings.HasPrefix(lower, b+"1") {
			return fmt.Errorf("%w: %s refused: %s looks like a partition a board boots from, and %s erases blocks of it; if it really is scratch, run again with --force", ErrRefused, action, label, action)
		}
	}
	if configured != nil && !slices.Contains(configured, device) {
		return fmt.Errorf("%w: %s refused: %s is not one of the chips the configuration file names as cmcsync's (%s), and %s erases blocks of it; if it really is scratch, run again with --force", ErrRefused, action, label, strings.Join(configured, ", "), action)
	}
	return nil
}
