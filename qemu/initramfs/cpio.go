package initramfs

import (
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// Mode bits of cpio entries (the file type in the high bits, as in stat(2)).
const (
	modeDir     = 0o040000
	modeRegular = 0o100000
	modeSymlink = 0o120000
)

// ErrBadName is returned for an entry name that is empty, absolute after
// cleaning, or escapes the archive root.
var ErrBadName = errors.New("bad archive entry name")

// Writer writes a cpio archive in the "newc" format the Linux kernel
// unpacks as an initramfs. Entries get uid/gid 0 and mtime 0 so that the
// same inputs give byte-identical archives. Parent directories are not
// created implicitly: write them first. A Writer is not safe for concurrent
// use; Close writes the trailer but does not close the underlying writer.
type Writer struct {
	w     io.Writer
	ino   uint32
	off   int64
	names map[string]bool
	err   error
}

// NewWriter returns a Writer that writes the archive to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, ino: 1, names: map[string]bool{}}
}

// Dir adds a directory with the given permission bits.
func (cw *Writer) Dir(name string, perm uint32) error {
	return cw.entry(name, modeDir|perm&0o7777, nil)
}

// File adds a regular file with the given permission bits and contents.
func (cw *Writer) File(name string, perm uint32, data []byte) error {
	return cw.entry(name, modeRegular|perm&0o7777, data)
}

// Symlink adds a symbolic link name → target.
func (cw *Writer) Symlink(name, target string) error {
	if target == "" {
		return fmt.Errorf("%w: symlink %q has an empty target", ErrBadName, name)
	}
	return cw.entry(name, modeSymlink|0o777, []byte(target))
}

// Close writes the trailer entry. The archive is complete afterwards.
func (cw *Writer) Close() error {
	if cw.err != nil {
		return cw.err
	}
	if err := cw.header("TRAILER!!!", 0, 0, 0); err != nil {
		return err
	}
	return cw.pad(512) // conventional: whole blocks
}

// Has reports whether an entry with this (cleaned) name was written.
func (cw *Writer) Has(name string) bool {
	n, err := cleanName(name)
	return err == nil && cw.names[n]
}

func cleanName(name string) (string, error) {
	n := path.Clean(strings.TrimPrefix(name, "/"))
	if name == "" || n == "." || n == ".." || strings.HasPrefix(n, "../") {
		return "", fmt.Errorf("%w: %q", ErrBadName, name)
	}
	return n, nil
}

func (cw *Writer) entry(name string, mode uint32, data []byte) error {
	if cw.err != nil {
		return cw.err
	}
	n, err := cleanName(name)
	if err != nil {
		return err
	}
	if cw.names[n] {
		return fmt.Errorf("%w: %q written twice", ErrBadName, n)
	}
	if dir := path.Dir(n); dir != "." && !cw.names[dir] {
		return fmt.Errorf("%w: %q: parent folder %q not written yet", ErrBadName, n, dir)
	}
	cw.names[n] = true
	nlink := uint32(1)
	if mode&modeDir != 0 {
		nlink = 2
	}
	if err := cw.header(n, mode, nlink, uint32(len(data))); err != nil {
		return err
	}
	if _, err := cw.write(data); err != nil {
		return err
	}
	return cw.pad(4)
}

func (cw *Writer) header(name string, mode, nlink, size uint32) error {
	ino := cw.ino
	cw.ino++
	if name == "TRAILER!!!" {
		ino = 0
	}
	// magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor,
	// rdevmajor, rdevminor, namesize, check
	h := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, len(name)+1, 0)
	if _, err := cw.write([]byte(h + name + "\x00")); err != nil {
		return err
	}
	return cw.pad(4)
}

func (cw *Writer) pad(to int64) error {
	if r := cw.off % to; r != 0 {
		_, err := cw.write(make([]byte, to-r))
		return err
	}
	return nil
}

func (cw *Writer) write(p []byte) (int, error) {
	n, err := cw.w.Write(p)
	cw.off += int64(n)
	if err != nil {
		cw.err = fmt.Errorf("write archive: %w", err)
	}
	return n, cw.err
}
