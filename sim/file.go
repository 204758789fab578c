package sim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/internal/atomicfile"
)

// Image file formats: see the package documentation ("Image files").

const (
	wearMagic  = "cmcwear1"
	wearHeader = 16
	badBit     = uint64(1) << 63
)

// ErrImageMismatch is wrapped by OpenFile's error when an existing image or
// wear file does not fit the requested chip.
var ErrImageMismatch = errors.New("does not match the chip")

type imageFile struct {
	path string
	img  *os.File
	wear *os.File
	err  error // sticky write error (from Poke or Restore, which return none)
}

// OpenFile returns a simulated chip persisted in the image file path. If
// path exists it must be exactly the chip's size (Options.Size, or the
// part's size), else OpenFile fails with an error wrapping
// ErrImageMismatch and touches nothing; its contents are loaded, and its
// wear from path+".wear" if that exists (it must then match the chip's
// block count). If path does not exist it is created erased (all 0xFF),
// with a fresh wear file, each atomically (see createFiles): a kill or a
// full disk during the creation leaves no image, never a short one. See
// the package documentation for the formats. The chip must be closed to
// release the files. An image is locked against a second OpenFile (from
// any process) while open.
func OpenFile(path string, o Options) (*Flash, error) {
	return openFile(path, o, false)
}

// OpenFileReadOnly returns a simulated chip loaded from the image file
// path (and its wear and bad-block marks from path+".wear" if that
// exists), checked as OpenFile checks them, for a caller that only reads
// (cmcsync inspect). It never creates, writes or locks a file: a missing
// image is an error wrapping fs.ErrNotExist, a missing wear file is zero
// wear, and writes and erases change only the chip in memory.
func OpenFileReadOnly(path string, o Options) (*Flash, error) {
	return openFile(path, o, true)
}

func openFile(path string, o Options, readOnly bool) (*Flash, error) {
	f, err := newFlash(o)
	if err != nil {
		return nil, err
	}
	size := f.geo.Size
	wearPath := path + ".wear"
	wearSize := int64(wearHeader + 8*f.nblocks)
	mismatch := func(file, format string, a ...any) error {
		return fmt.Errorf("%s %w: "+format, append([]any{file, ErrImageMismatch}, a...)...)
	}

	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !readOnly:
		if err := createFiles(path, size, f.nblocks); err != nil {
			return nil, fmt.Errorf("image %s: %w", path, err)
		}
	case err != nil:
		return nil, fmt.Errorf("image: %w", err)
	case !st.Mode().IsRegular():
		return nil, mismatch("image "+path, "not a regular file")
	case st.Size() != size:
		return nil, mismatch("image "+path, "it holds %d bytes, but a %s %s chip is %d bytes (use the matching size, or another file)",
			st.Size(), hal.FormatSize(size), f.part.Name, size)
	}
	wearData, err := os.ReadFile(wearPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		wearData = nil
	case err != nil:
		return nil, fmt.Errorf("wear file: %w", err)
	case int64(len(wearData)) != wearSize || string(wearData[:8]) != wearMagic ||
		binary.LittleEndian.Uint64(wearData[8:]) != uint64(f.nblocks):
		return nil, mismatch("wear file "+wearPath, "it is not a wear file for %d erase blocks of %s (open it with the part, size and erase model it was made with, or remove it to start from zero wear)", f.nblocks, hal.FormatSize(f.geo.EraseSize))
	}

	if readOnly {
		img, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("image: %w", err)
		}
		defer img.Close()
		if err := f.load(img); err != nil {
			return nil, fmt.Errorf("image %s: %w", path, err)
		}
		f.loadWear(wearData)
		return f, nil
	}

	imf := &imageFile{path: path}
	if imf.img, err = os.OpenFile(path, os.O_RDWR, 0); err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	if err := lockFile(imf.img); err != nil {
		imf.img.Close()
		return nil, fmt.Errorf("image %s is in use by another process or chip (%w)", path, err)
	}
	fail := func(err error) (*Flash, error) {
		imf.img.Close()
		if imf.wear != nil {
			imf.wear.Close()
		}
		return nil, fmt.Errorf("image %s: %w", path, err)
	}
	if err := f.load(imf.img); err != nil {
		return fail(err)
	}
	if wearData == nil {
		// An image without a wear file (made by dd, say): zero wear.
		if err := atomicfile.WriteFile(wearPath, freshWear(f.nblocks), 0o644); err != nil {
			return fail(err)
		}
	}
	f.loadWear(wearData)
	if imf.wear, err = os.OpenFile(wearPath, os.O_RDWR, 0); err != nil {
		return fail(err)
	}
	f.file = imf
	return f, nil
}

// loadWear sets each block's wear and bad-block mark from a wear file's
// contents (checked by the caller); nil is zero wear.
func (f *Flash) loadWear(wearData []byte) {
	for b := int64(0); wearData != nil && b < f.nblocks; b++ {
		v := binary.LittleEndian.Uint64(wearData[wearHeader+8*b:])
		if v != 0 {
			bl := f.blk(b)
			bl.wear = int64(v &^ badBit)
			bl.bad = v&badBit != 0
		}
	}
}

// freshWear returns the contents of a wear file for nblocks unworn erase
// blocks.
func freshWear(nblocks int64) []byte {
	fresh := make([]byte, wearHeader+8*nblocks)
	copy(fresh, wearMagic)
	binary.LittleEndian.PutUint64(fresh[8:], uint64(nblocks))
	return fresh
}

// createFiles creates an erased image of size bytes at path and its fresh
// wear file, each atomically (internal/atomicfile): written in full to a
// temporary file in the same folder, fsynced, renamed into place, and the
// folder fsynced. The wear file comes first, so an image never exists
// without one. Leftover temporary files of an earlier creation that was
// killed are removed first. On an error (a full disk) the temporary file
// is removed and nothing is left at path.
func createFiles(path string, size, nblocks int64) error {
	atomicfile.RemoveTemps(path)
	atomicfile.RemoveTemps(path + ".wear")
	if err := atomicfile.WriteFile(path+".wear", freshWear(nblocks), 0o644); err != nil {
		return err
	}
	return atomicfile.Place(path, 0o644, func(tmp *os.File) error {
		buf := make([]byte, min(size, 1<<20))
		for i := range buf {
			buf[i] = 0xFF
		}
		for off := int64(0); off < size; off += int64(len(buf)) {
			if _, err := tmp.WriteAt(buf[:min(int64(len(buf)), size-off)], off); err != nil {
				return err
			}
		}
		return nil
	})
}

// load reads the image into memory; all-0xFF blocks stay unallocated.
func (f *Flash) load(r io.ReaderAt) error {
	es := f.geo.EraseSize
	buf := make([]byte, es)
	for b := int64(0); b < f.nblocks; b++ {
		if _, err := r.ReadAt(buf, b*es); err != nil {
			return fmt.Errorf("reading erase block %d: %w", b, err)
		}
		if hal.IsErased(buf) {
			continue
		}
		bl := f.blk(b)
		bl.data = buf
		bl.owner = f.epoch
		bl.version = versions.Add(1)
		if f.geo.Kind == hal.NAND {
			ps := f.geo.PageSize
			for pg := es/ps - 1; pg >= 0; pg-- {
				if !hal.IsErased(buf[pg*ps : (pg+1)*ps]) {
					bl.next = pg + 1
					break
				}
			}
		}
		buf = make([]byte, es)
	}
	return nil
}

func (m *imageFile) fail(err error) {
	if m.err == nil {
		m.err = err
	}
}

func (m *imageFile) check() error {
	if m.err != nil {
		return fmt.Errorf("%w: image file %s: earlier write failed: %w", hal.ErrMedia, m.path, m.err)
	}
	return nil
}

func (m *imageFile) mediaErr(err error) error {
	return fmt.Errorf("%w: image file %s: %w", hal.ErrMedia, m.path, err)
}

// writeRange writes the chip's bytes [off, off+n) to the image.
func (m *imageFile) writeRange(f *Flash, off, n int64) error {
	es := f.geo.EraseSize
	for done := int64(0); done < n; {
		pos := off + done
		in := pos & (es - 1)
		k := min(es-in, n-done)
		bl := f.blk(pos >> f.blkShift)
		var src []byte
		if bl.data == nil {
			src = ffPage[:min(k, int64(len(ffPage)))]
			k = int64(len(src))
		} else {
			src = bl.data[in : in+k]
		}
		if _, err := m.img.WriteAt(src, pos); err != nil {
			return m.mediaErr(err)
		}
		done += k
	}
	return nil
}

// eraseRange writes 0xFF and the wear of blocks first..last.
func (m *imageFile) eraseRange(f *Flash, first, last int64) error {
	if err := m.writeRange(f, first<<f.blkShift, (last-first+1)<<f.blkShift); err != nil {
		return err
	}
	return m.writeMetaRange(f, first, last)
}

func (m *imageFile) writeMeta(f *Flash, b int64) error { return m.writeMetaRange(f, b, b) }

func (m *imageFile) writeMetaRange(f *Flash, first, last int64) error {
	buf := make([]byte, 8*(last-first+1))
	for b := first; b <= last; b++ {
		bl := f.blk(b)
		v := uint64(bl.wear)
		if bl.bad {
			v |= badBit
		}
		binary.LittleEndian.PutUint64(buf[8*(b-first):], v)
	}
	if _, err := m.wear.WriteAt(buf, wearHeader+8*first); err != nil {
		return m.mediaErr(err)
	}
	return nil
}

// restore writes to the files the blocks of chunks that differ from the
// chip's current ones (before the chip switches to chunks).
func (m *imageFile) restore(f *Flash, chunks []*chunk) {
	for ci, c := range chunks {
		cur := f.chunks[ci]
		if c == cur {
			continue
		}
		for i := range c.blocks {
			b := int64(ci)<<chunkShift + int64(i)
			if b >= f.nblocks {
				break
			}
			want, have := &c.blocks[i], &cur.blocks[i]
			if !sameData(want.data, have.data) {
				src := want.data
				if src == nil {
					src = ffPage[:0]
				}
				var err error
				if len(src) > 0 {
					_, err = m.img.WriteAt(src, b<<f.blkShift)
				} else {
					for off := int64(0); off < f.geo.EraseSize && err == nil; off += int64(len(ffPage)) {
						_, err = m.img.WriteAt(ffPage[:min(int64(len(ffPage)), f.geo.EraseSize-off)], b<<f.blkShift+off)
					}
				}
				if err != nil {
					m.fail(err)
				}
			}
			if want.wear != have.wear || want.bad != have.bad {
				v := uint64(want.wear)
				if want.bad {
					v |= badBit
				}
				var buf [8]byte
				binary.LittleEndian.PutUint64(buf[:], v)
				if _, err := m.wear.WriteAt(buf[:], wearHeader+8*b); err != nil {
					m.fail(err)
				}
			}
		}
	}
}

func sameData(a, b []byte) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return &a[0] == &b[0]
}

func (m *imageFile) sync() error {
	if err := m.img.Sync(); err != nil {
		return err
	}
	return m.wear.Sync()
}

func (m *imageFile) close() error {
	err := m.sync()
	if e := m.img.Close(); err == nil {
		err = e
	}
	if e := m.wear.Close(); err == nil {
		err = e
	}
	return err
}
