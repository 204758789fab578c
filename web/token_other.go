//go:build !linux

package web

import (
	"errors"
	"io/fs"
	"os"
)

// errSymlink means openNoFollow found a symbolic link.
var errSymlink = errors.New("symbolic link")

// openNoFollow opens path for reading unless it is a symbolic link. Unlike
// the Linux version it checks before it opens (Lstat), so a link swapped in
// between is followed; the caller's f.Stat still sees a regular file.
func openNoFollow(path string) (*os.File, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, errSymlink
	}
	return os.Open(path)
}

// fileOwner is unknown off Linux: the owner check is skipped.
func fileOwner(fs.FileInfo) (uid int, known bool) { return 0, false }
