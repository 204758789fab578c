package sim

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive, non-blocking flock on the image; it goes away
// with the descriptor (or the process).
func lockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}
