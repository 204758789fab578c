//go:build !linux

package devlock

// lockPath takes no lock outside Linux (MTD devices are Linux-only; a
// simulated chip's image file is not protected there).
func lockPath(string) (closer, error) { return nil, nil }
