package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPlace(t *testing.T) {
	tests := []struct {
		name     string
		old      string // "" no file before
		fill     func(*os.File) error
		wantErr  bool
		wantText string
	}{
		{"new file", "", func(f *os.File) error { _, err := f.WriteString("new"); return err }, false, "new"},
		{"replaced", "old", func(f *os.File) error { _, err := f.WriteString("new"); return err }, false, "new"},
		{"a failed fill leaves the old file", "old", func(f *os.File) error { f.WriteString("half"); return errors.New("disk full") }, true, "old"},
		{"a failed fill leaves no file", "", func(f *os.File) error { return errors.New("disk full") }, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x[1].img")
			if tt.old != "" {
				require.NoError(t, os.WriteFile(path, []byte(tt.old), 0o600))
			}
			err := Place(path, 0o640, tt.fill)
			if tt.wantErr {
				require.ErrorContains(t, err, "x[1].img")
			} else {
				require.NoError(t, err)
				fi, err := os.Stat(path)
				require.NoError(t, err)
				require.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
			}
			got, err := os.ReadFile(path)
			if tt.wantText == "" {
				require.True(t, os.IsNotExist(err))
			} else {
				require.Equal(t, tt.wantText, string(got))
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				require.Equal(t, "x[1].img", e.Name(), "no temporary file is left")
			}
		})
	}
}

func TestRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "chip*.img")
	for _, name := range []string{"chip*.img.123.tmp", "chip*.img.9.tmp", "chip*.img", "other.img.1.tmp"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), nil, 0o600))
	}
	RemoveTemps(path)
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.ElementsMatch(t, []string{"chip*.img", "other.img.1.tmp"}, names)
}

func TestRemove(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "marker")
	require.NoError(t, WriteFile(path, []byte("x"), 0o600))
	require.NoError(t, Remove(path))
	require.NoFileExists(t, path)
	require.NoError(t, Remove(path), "removing what is gone is no error")
}
