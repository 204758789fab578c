//go:build !linux

package altboot

import "errors"

// DevMem is only available on Linux.
type DevMem struct{ Regs }

// OpenDevMem fails outside Linux.
func OpenDevMem(base int64) (*DevMem, error) {
	return nil, errors.New("alt-boot: /dev/mem registers are only reachable on Linux")
}
