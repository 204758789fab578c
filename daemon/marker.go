package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
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

// set writes the marker durably (written, fsynced, renamed into place,
// the folder fsynced) before anything is formatted.
func (m formatMarker) set() error {
	if m.dir == "" {
		return nil
	}
	tmp := m.path() + ".new"
	body := fmt.Sprintf("format begun %s by process %d\n", time.Now().UTC().Format(time.RFC3339), os.Getpid())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err == nil {
		_, err = f.WriteString(body)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil {
		err = os.Rename(tmp, m.path())
	}
	if err == nil {
		err = syncDir(m.dir)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("format marker: %w", err)
	}
	return nil
}

// clear removes the marker durably once the format is complete.
func (m formatMarker) clear() error {
	if m.dir == "" {
		return nil
	}
	if err := os.Remove(m.path()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("format marker: %w", err)
	}
	if err := syncDir(m.dir); err != nil {
		return fmt.Errorf("format marker: %w", err)
	}
	return nil
}

// syncDir fsyncs a folder, so that a rename or removal in it survives a
// power cut.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
