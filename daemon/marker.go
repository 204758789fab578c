package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/cmcsync/cmcsync/internal/atomicfile"
)

// MarkerFile is the format-in-progress marker in the state folder: it
// exists while the daemon formats simulated chips, from before their image
// files are created until the engine has opened the formatted pair.
const MarkerFile = "format-in-progress"

// formatMarker is the marker of one state folder; a zero dir disables it
// (no state folder).
type formatMarker struct{ dir string }

func (m formatMarker) path() string { return filepath.Join(m.dir, MarkerFile) }

// present reports whether a format was begun and not finished: the
// process was killed, or lost power, while formatting.
func (m formatMarker) present() (bool, error) {
	if m.dir == "" {
		return false, nil
	}
	_, err := os.Lstat(m.path())
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("format marker: %w", err)
}

// set writes the marker durably (internal/atomicfile: written, fsynced,
// renamed into place, the folder fsynced) before anything is formatted.
func (m formatMarker) set() error {
	if m.dir == "" {
		return nil
	}
	body := fmt.Sprintf("format begun %s by process %d\n", time.Now().UTC().Format(time.RFC3339), os.Getpid())
	if err := atomicfile.WriteFile(m.path(), []byte(body), 0o600); err != nil {
		return fmt.Errorf("format marker: %w", err)
	}
	return nil
}

// clear removes the marker durably once the format is complete.
func (m formatMarker) clear() error {
	if m.dir == "" {
		return nil
	}
	if err := atomicfile.Remove(m.path()); err != nil {
		return fmt.Errorf("format marker: %w", err)
	}
	return nil
}
