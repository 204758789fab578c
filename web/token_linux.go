package web

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// errSymlink means openNoFollow found a symbolic link.
var errSymlink = errors.New("symbolic link")

// openNoFollow opens path for reading without following a symbolic link in
// its last element (O_NOFOLLOW) and without blocking on a FIFO
// (O_NONBLOCK); the caller checks what it opened with f.Stat.
func openNoFollow(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, errSymlink
	}
	return f, err
}

// fileOwner returns the user id that owns fi.
func fileOwner(fi fs.FileInfo) (uid int, known bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
