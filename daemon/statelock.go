package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/cmcsync/cmcsync/internal/devlock"
)

// LockFile is the state folder's lock: a daemon holds an exclusive flock(2)
// on it (internal/devlock) from the start of Open until Close, so a second
// daemon on the same state folder is refused before it reads or writes the
// history log or the format marker there. The file is empty and stays.
const LockFile = "serve.lock"

// ErrStateInUse is wrapped, with devlock.ErrBusy, by Open's error when
// another process holds the state folder (a daemon already runs on it).
var ErrStateInUse = errors.New("state folder in use")

// lockStateDir takes the state folder's lock (nil for no folder).
func lockStateDir(dir string) (*devlock.Locks, error) {
	if dir == "" {
		return nil, nil
	}
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	switch {
	case errors.Is(err, syscall.EROFS):
		// A read-only folder (the history is then kept in memory):
		// the folder itself is locked.
		path = dir
	case err != nil:
		return nil, fmt.Errorf("state folder lock: %w", err)
	default:
		f.Close()
	}
	l, err := devlock.Lock(path)
	if errors.Is(err, devlock.ErrBusy) {
		return nil, fmt.Errorf("%w: %s: %w (one daemon per state folder)", ErrStateInUse, dir, err)
	}
	if err != nil {
		return nil, fmt.Errorf("state folder lock: %w", err)
	}
	return l, nil
}
