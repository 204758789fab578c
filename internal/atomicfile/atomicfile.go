// Package atomicfile replaces files so that a kill, a power cut or a full
// disk leaves either the old file or the new one, whole: the new contents
// go to a temporary file in the same folder, which is fsynced, renamed
// over the target, and the folder fsynced.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// TempSuffix ends the names of the temporary files Place writes:
// NAME.RANDOM.tmp next to the target NAME.
const TempSuffix = ".tmp"

// Place has fill write a new file next to path (mode perm), fsyncs it,
// renames it to path and fsyncs the folder. On an error the temporary
// file is removed and path is untouched. fill's error is returned wrapped
// with path's name.
func Place(path string, perm os.FileMode, fill func(*os.File) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, base+".*"+TempSuffix)
	if err != nil {
		return fmt.Errorf("create %s: %w", base, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("create %s: %w", base, err)
	}
	if err := fill(tmp); err != nil {
		return fmt.Errorf("create %s: %w", base, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("create %s: %w", base, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("create %s: %w", base, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("create %s: %w", base, err)
	}
	return SyncDir(dir)
}

// WriteFile replaces path with data (mode perm), as Place does.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Place(path, perm, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// RemoveTemps removes the temporary files Place left next to path when
// its process was killed.
func RemoveTemps(path string) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	names, _ := filepath.Glob(filepath.Join(dir, globEscape(base)+".*"+TempSuffix))
	for _, n := range names {
		os.Remove(n)
	}
}

// Remove removes path, if it exists, and fsyncs its folder so that the
// removal survives a power cut.
func Remove(path string) error {
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	dir := filepath.Dir(path)
	return SyncDir(dir)
}

// SyncDir fsyncs a folder, so that a rename, creation or removal in it
// survives a power cut.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	return nil
}

// globEscape escapes the characters filepath.Match treats specially.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
