package sim

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/stretchr/testify/require"
)

func openImage(t *testing.T, path, part string, size int64) *Flash {
	t.Helper()
	f, err := OpenFile(path, Options{Part: mustPart(t, part), Size: size, Name: "img"})
	require.NoError(t, err)
	return f
}

func TestOpenFileCreatesErasedImage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chip.img")
	f := openImage(t, path, norName, 256<<10)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, fill(256<<10, 0xFF), raw)
	wear, err := os.ReadFile(path + ".wear")
	require.NoError(t, err)
	require.Len(t, wear, 16+8*64)
	require.Equal(t, "cmcwear1", string(wear[:8]))
	require.NoError(t, f.Close())
	require.NoError(t, f.Close())
	_, err = f.ReadAt(make([]byte, 1), 0)
	require.ErrorIs(t, err, hal.ErrClosed)
	require.ErrorIs(t, f.Sync(), hal.ErrClosed)
}

// TestOpenFileWritesThrough: what WriteAt and Erase acknowledged is in the
// file at once (as after kill -9), and a reopen sees contents and wear.
func TestOpenFileWritesThrough(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chip.img")
	f := openImage(t, path, norName, 256<<10)
	_, err := f.WriteAt([]byte("hello"), 4094)
	require.NoError(t, err)
	_, err = f.WriteAt(fill(8192, 0), 64<<10)
	require.NoError(t, err)
	require.NoError(t, f.Erase(64<<10, 4096))
	require.NoError(t, f.Erase(64<<10, 4096))
	f.Poke(100<<10, []byte{0x12})
	want := readAll(t, f)

	raw, err := os.ReadFile(path) // f still open, never synced or closed
	require.NoError(t, err)
	require.Equal(t, want, raw)
	require.Equal(t, []byte("hello"), raw[4094:4099])

	_, err = OpenFile(path, Options{Part: mustPart(t, norName), Size: 256 << 10})
	require.ErrorContains(t, err, "in use")

	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
	g := openImage(t, path, norName, 256<<10)
	defer g.Close()
	require.Equal(t, want, readAll(t, g))
	require.Equal(t, int64(2), g.Wear(16))
	require.Equal(t, int64(0), g.Wear(15))
	require.Equal(t, int64(0), g.Wear(17))
	// NOR reprogramming still ANDs into the loaded data.
	_, err = g.WriteAt([]byte{0x0F}, 4094)
	require.NoError(t, err)
	got := make([]byte, 1)
	_, err = g.ReadAt(got, 4094)
	require.NoError(t, err)
	require.Equal(t, byte('h'&0x0F), got[0])
}

func TestOpenFileNAND(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nand.img")
	f := openImage(t, path, nandName, 4*nblock)
	_, err := f.WriteAt(fill(2*page, 0x33), nblock) // pages 0, 1 of block 1
	require.NoError(t, err)
	require.NoError(t, f.MarkBad(3*nblock))
	require.NoError(t, f.Erase(2*nblock, nblock))
	require.NoError(t, f.Close())

	g := openImage(t, path, nandName, 4*nblock)
	defer g.Close()
	bad, err := g.IsBad(3 * nblock)
	require.NoError(t, err)
	require.True(t, bad)
	require.Equal(t, int64(1), g.Wear(2))
	// The program state comes back from the contents: pages 0 and 1 are
	// taken, page 2 is free.
	_, err = g.WriteAt(fill(page, 0), nblock+page)
	require.ErrorIs(t, err, hal.ErrNAND)
	_, err = g.WriteAt(fill(page, 0), nblock+2*page)
	require.NoError(t, err)
}

func TestOpenFileMismatch(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "chip.img")
	f := openImage(t, path, norName, 64<<10)
	_, err := f.WriteAt([]byte("keep"), 0)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	img, err := os.ReadFile(path)
	require.NoError(t, err)
	wear, err := os.ReadFile(path + ".wear")
	require.NoError(t, err)

	_, err = OpenFile(path, Options{Part: mustPart(t, norName), Size: 128 << 10})
	require.ErrorIs(t, err, ErrImageMismatch)
	require.ErrorContains(t, err, "holds 65536 bytes, but a 128KiB w25q256jv chip is 131072 bytes")

	// A wear file for another chip: refused too.
	require.NoError(t, os.WriteFile(path+".wear", []byte("cmcwear1garbage!"), 0o644))
	_, err = OpenFile(path, Options{Part: mustPart(t, norName), Size: 64 << 10})
	require.ErrorIs(t, err, ErrImageMismatch)
	require.ErrorContains(t, err, "remove it")
	require.NoError(t, os.WriteFile(path+".wear", wear, 0o644))

	// The image opened with another erase block size (another part's,
	// or the 64 KiB erase model): the wear file does not fit, and the
	// hint names the part too, not only the erase model.
	_, err = OpenFile(path, Options{Part: mustPart(t, norName), Size: 64 << 10, EraseModel: Erase64K})
	require.ErrorIs(t, err, ErrImageMismatch)
	require.ErrorContains(t, err, "open it with the part, size and erase model it was made with")

	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, img, got, "a refused open touched the image")

	// A directory is not an image.
	_, err = OpenFile(dir, Options{Part: mustPart(t, norName), Size: 64 << 10})
	require.ErrorIs(t, err, ErrImageMismatch)

	// Bad options fail before any file is created.
	_, err = OpenFile(filepath.Join(dir, "new.img"), Options{Part: mustPart(t, norName), Size: 1000})
	require.Error(t, err)
	_, err = os.Stat(filepath.Join(dir, "new.img"))
	require.ErrorIs(t, err, os.ErrNotExist)

	// An image without a wear file (e.g. made by dd) opens with zero wear.
	require.NoError(t, os.Remove(path+".wear"))
	g := openImage(t, path, norName, 64<<10)
	require.Equal(t, int64(0), g.MaxWear())
	require.True(t, bytes.HasPrefix(readAll(t, g), []byte("keep")))
	require.NoError(t, g.Close())
}

func TestOpenFileRestoreWritesBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chip.img")
	f := openImage(t, path, norName, 1<<20)
	churn(t, f, 1, 100)
	s := f.Snapshot()
	want := readAll(t, f)
	wantWear := make([]int64, 256)
	for b := range wantWear {
		wantWear[b] = f.Wear(int64(b))
	}
	churn(t, f, 2, 300)
	f.Restore(s)
	require.NoError(t, f.Close())

	g := openImage(t, path, norName, 1<<20)
	defer g.Close()
	require.Equal(t, want, readAll(t, g))
	for b := range wantWear {
		require.Equal(t, wantWear[b], g.Wear(int64(b)), "wear of block %d", b)
	}
}

// TestImageWriteFailure: when the image file cannot be written, WriteAt
// and Erase report ErrMedia, and a failed write from Poke (which returns
// nothing) makes every later operation fail with ErrMedia.
func TestImageWriteFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chip.img")
	f := openImage(t, path, norName, 64<<10)
	require.NoError(t, f.file.img.Close()) // the disk goes away
	_, err := f.WriteAt([]byte{0}, 0)
	require.ErrorIs(t, err, hal.ErrMedia)
	require.ErrorContains(t, err, "image file")
	require.ErrorIs(t, f.Erase(0, 4096), hal.ErrMedia)
	_, err = f.ReadAt(make([]byte, 1), 0)
	require.NoError(t, err, "reads come from memory")
	f.Poke(0, []byte{1})
	_, err = f.ReadAt(make([]byte, 1), 0)
	require.ErrorIs(t, err, hal.ErrMedia)
	require.ErrorContains(t, err, "earlier write failed")
	require.Error(t, f.Close())
}
