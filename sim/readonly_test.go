package sim

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOpenFileReadOnly: the chip holds the image's contents and wear, and
// nothing the chip does reaches a file: no wear file is created, writes
// and erases stay in memory, a second open (read-write) is not locked out;
// a missing image is not created and a mismatched one is refused.
func TestOpenFileReadOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "chip.img")
	w := openImage(t, path, norName, 256<<10)
	require.NoError(t, w.Erase(0, 4096))
	_, err := w.WriteAt([]byte("data"), 8)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.NoError(t, os.Remove(path+".wear"))
	before, err := os.ReadFile(path)
	require.NoError(t, err)

	o := Options{Part: mustPart(t, norName), Size: 256 << 10, Name: "ro"}
	f, err := OpenFileReadOnly(path, o)
	require.NoError(t, err)
	got := make([]byte, 4)
	_, err = f.ReadAt(got, 8)
	require.NoError(t, err)
	require.Equal(t, []byte("data"), got)
	require.NoError(t, f.Erase(0, 4096))
	_, err = f.WriteAt([]byte("xx"), 100)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, bytes.Equal(before, after), "the image changed")
	_, err = os.Stat(path + ".wear")
	require.ErrorIs(t, err, fs.ErrNotExist, "a wear file was created")

	// Wear is loaded when the file exists (and is not written).
	w = openImage(t, path, norName, 256<<10)
	require.NoError(t, w.Erase(0, 4096))
	require.NoError(t, w.Close())
	f, err = OpenFileReadOnly(path, o)
	require.NoError(t, err)
	require.Equal(t, int64(1), f.Wear(0))
	// Not locked: a read-write open of the same image while it is open.
	w = openImage(t, path, norName, 256<<10)
	require.NoError(t, w.Close())
	require.NoError(t, f.Close())

	_, err = OpenFileReadOnly(filepath.Join(dir, "missing.img"), o)
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, err = os.Stat(filepath.Join(dir, "missing.img"))
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "short.img"), []byte{1}, 0o644))
	_, err = OpenFileReadOnly(filepath.Join(dir, "short.img"), o)
	require.ErrorIs(t, err, ErrImageMismatch)
	_, err = os.Stat(filepath.Join(dir, "short.img.wear"))
	require.ErrorIs(t, err, fs.ErrNotExist)
}
