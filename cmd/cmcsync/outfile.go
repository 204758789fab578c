package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"

	"github.com/cmcsync/cmcsync/internal/flashspec"
)

// chipFile is a chip a command opens, by its role in the messages
// ("primary", "backup", "flash") and its spec as given.
type chipFile struct {
	role, spec string
}

// refuseOutOnChip refuses (exit 2) an output file that is one of the
// command's chips: a simulated chip's image or wear file, or the MTD
// device, by path or, when it exists, as the same file (a symlink,
// another spelling). Writing an output there would destroy the chip.
func refuseOutOnChip(cmd, out string, chips ...chipFile) error {
	outAbs, _ := filepath.Abs(out)
	outSt, outErr := os.Stat(out)
	for _, c := range chips {
		s, err := flashspec.Parse(c.spec)
		if err != nil || s.Path() == "" {
			continue // the open reports a bad spec; a chip in memory has no file
		}
		for _, p := range []string{s.Path(), s.Path() + ".wear"} {
			abs, _ := filepath.Abs(p)
			st, err := os.Stat(p)
			if abs == outAbs || (err == nil && outErr == nil && os.SameFile(st, outSt)) {
				return usageError("%s: --out %s is the %s's file %s: writing there would destroy the chip; give another file", cmd, out, c.role, p)
			}
		}
	}
	return nil
}

// mkdirAllNew makes dir and its missing parents, as os.MkdirAll(dir,
// perm), and
// returns the folders it made, outermost first; on an error none of them
// is left.
func mkdirAllNew(dir string, perm os.FileMode) ([]string, error) {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil || !errors.Is(err, os.ErrNotExist) {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	slices.Reverse(missing)
	if err := os.MkdirAll(dir, perm); err != nil {
		for i := len(missing) - 1; i >= 0; i-- {
			os.Remove(missing[i])
		}
		return nil, err
	}
	return missing, nil
}
