// Package devlock keeps two cmcsync processes from driving the same chip:
// every command that writes a chip takes an exclusive flock(2) on its
// device (/dev/mtdN) or image file first, and a second process gets an
// error naming the holder, "device busy: /dev/mtd5 is held by cmcsync
// serve (pid 812)", found in /proc/locks.
//
// A chip image file that does not exist yet is locked through its folder
// (the process that creates it holds the folder), so two processes cannot
// both create it. On systems other than Linux Lock takes no lock.
package devlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ErrBusy is wrapped by Lock's error when another process holds a lock.
var ErrBusy = errors.New("device busy")

// BusyError says who holds the lock Lock could not take.
type BusyError struct {
	Path    string // the locked device, file or folder
	PID     int    // 0: not found in /proc/locks
	Command string // the holder's command line, e.g. "cmcsync serve --config /etc/cmcsync.json"
}

func (e *BusyError) Error() string {
	who := "another process"
	switch {
	case e.PID != 0 && e.Command != "":
		who = fmt.Sprintf("%s (pid %d)", e.Command, e.PID)
	case e.PID != 0:
		who = fmt.Sprintf("pid %d", e.PID)
	}
	return fmt.Sprintf("device busy: %s is held by %s (stop it, or use its API while it runs)", e.Path, who)
}

// Unwrap makes errors.Is(err, ErrBusy) hold.
func (e *BusyError) Unwrap() error { return ErrBusy }

// Locks are the locks one Lock call took.
type Locks struct {
	files []closer
}

type closer interface{ Close() error }

// Unlock releases the locks (closing their descriptors).
func (l *Locks) Unlock() error {
	if l == nil {
		return nil
	}
	var errs []error
	for _, f := range l.files {
		errs = append(errs, f.Close())
	}
	l.files = nil
	return errors.Join(errs...)
}

// Lock takes an exclusive, non-blocking lock on each path ("" is left out,
// a chip kept in memory; repeated paths are locked once). If one is held
// elsewhere it releases what it took and returns a *BusyError.
func Lock(paths ...string) (*Locks, error) {
	l := &Locks{}
	var done []string
	for _, p := range paths {
		if p == "" {
			continue
		}
		p = target(p)
		if slices.Contains(done, p) {
			continue
		}
		done = append(done, p)
		f, err := lockPath(p)
		if err != nil {
			l.Unlock()
			return nil, err
		}
		if f != nil {
			l.files = append(l.files, f)
		}
	}
	return l, nil
}

// target is the path locked for p: p, or its folder while p does not
// exist.
func target(p string) string {
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		return filepath.Dir(p)
	}
	return p
}

// Holder is one lock /proc/locks lists.
type Holder struct {
	Kind         string // FLOCK, POSIX, OFDLCK, LEASE
	PID          int
	Major, Minor uint32
	Inode        uint64
}

// ParseProcLocks parses /proc/locks, e.g.
//
//	1: FLOCK  ADVISORY  WRITE 812 00:05:97 0 EOF
//	1: -> FLOCK  ADVISORY  WRITE 901 00:05:97 0 EOF
//
// Waiters ("->") are left out; lines it cannot read are skipped (the
// holder is then reported as another process).
func ParseProcLocks(text string) []Holder {
	var out []Holder
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || f[1] == "->" {
			continue
		}
		pid, err := strconv.Atoi(f[4])
		if err != nil || pid <= 0 {
			continue
		}
		id := strings.Split(f[5], ":")
		if len(id) != 3 {
			continue
		}
		maj, err1 := strconv.ParseUint(id[0], 16, 32)
		min, err2 := strconv.ParseUint(id[1], 16, 32)
		ino, err3 := strconv.ParseUint(id[2], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		out = append(out, Holder{Kind: f[1], PID: pid, Major: uint32(maj), Minor: uint32(min), Inode: ino})
	}
	return out
}
