//go:build !linux

package devlock

// lockPath takes no lock outside Linux (MTD devices are Linux-only; a
// simulated chip's image file is not protected there).
func lockPath(string) (closer, error) { return nil, nil }

// Busy returns the BusyError of a path another process has locked; the
// holder is not looked for outside Linux.
func Busy(path string) *BusyError { return &BusyError{Path: path} }
