package devlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// lockPath locks target.
func lockPath(target string) (closer, error) {
	f, err := os.Open(target)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", target, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, Busy(target)
		}
		return nil, fmt.Errorf("lock %s: %w", target, err)
	}
	return f, nil
}

// Busy returns the BusyError of a path another process has locked (with
// flock(2), as cmcsync and its simulated chips' image files do), naming
// the holder if /proc/locks lists it.
func Busy(path string) *BusyError {
	be := &BusyError{Path: path}
	be.PID, be.Command = holderOf(path)
	return be
}

// holderOf finds the process holding a flock on path in /proc/locks.
func holderOf(path string) (int, string) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, ""
	}
	b, err := os.ReadFile("/proc/locks")
	if err != nil {
		return 0, ""
	}
	maj, min := unix.Major(uint64(st.Dev)), unix.Minor(uint64(st.Dev))
	for _, h := range ParseProcLocks(string(b)) {
		if h.Kind == "FLOCK" && h.Major == maj && h.Minor == min && h.Inode == uint64(st.Ino) {
			return h.PID, commandOf(h.PID)
		}
	}
	return 0, ""
}

// commandOf is a process's command line, arguments separated by spaces.
func commandOf(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return ""
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	if len(args) > 0 {
		args[0] = filepath.Base(args[0])
	}
	return strings.Join(args, " ")
}
