package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/cmcsync/cmcsync/hal/mtd"
	"github.com/cmcsync/cmcsync/internal/flashspec"
)

// chipFile is a chip a command opens, by its role in the messages
// ("primary", "backup", "flash") and its spec as given.
type chipFile struct {
	role, spec string
}

// outFile is an output file a command writes for the user (info get
// --out, calibrate --out, campaign --cpuprofile): its bytes go to a
// temporary file in the target's folder, and Commit syncs that file and
// renames it over the target. A failure, a Ctrl-C or a power cut leaves
// the file that was there (or none), never a half one.
type outFile struct {
	cmd, flag, path string // path is the target, symlinks resolved
	tmp             *os.File
	perm            os.FileMode
}

// createOut checks the output path given with flag (e.g. "--out") and
// opens its temporary file. It refuses (exit 2, nothing created) a path
// that is one of the command's chips (see refuseOutOnChip), a folder, a
// path that is there and not a regular file, and a missing folder; its
// errors name the path.
func createOut(cmd, flag, path string, chips ...chipFile) (*outFile, error) {
	if path == "" {
		return nil, usageError("%s: %s: empty path", cmd, flag)
	}
	if err := refuseOutOnChip(cmd, flag, path, chips...); err != nil {
		return nil, err
	}
	target := path
	if r, err := filepath.EvalSymlinks(path); err == nil {
		target = r // replace the file a symlink names, not the link
	}
	perm := os.FileMode(0o644)
	st, err := os.Stat(target)
	switch {
	case err == nil && st.IsDir():
		return nil, usageError("%s: %s %s is a folder: give a file name", cmd, flag, path)
	case err == nil && !st.Mode().IsRegular():
		return nil, usageError("%s: %s %s is there and not a regular file (%v): give a file name", cmd, flag, path, st.Mode().Type())
	case err == nil:
		perm = st.Mode().Perm()
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("%s: %s %s: %w", cmd, flag, path, err)
	}
	dir := filepath.Dir(target)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, usageError("%s: %s %s: folder %s does not exist", cmd, flag, path, dir)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("%s: %s %s: %w", cmd, flag, path, err)
	}
	return &outFile{cmd: cmd, flag: flag, path: target, tmp: tmp, perm: perm}, nil
}

// Write writes to the temporary file.
func (o *outFile) Write(p []byte) (int, error) { return o.tmp.Write(p) }

// Commit makes the written bytes the target's content: it syncs the
// temporary file, renames it over the target and syncs the folder. On an
// error the target is as it was and the temporary file is removed.
func (o *outFile) Commit() error {
	err := o.tmp.Chmod(o.perm)
	if err == nil {
		err = o.tmp.Sync()
	}
	if cerr := o.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = renameSynced(o.tmp.Name(), o.path)
	}
	if err != nil {
		os.Remove(o.tmp.Name())
		return fmt.Errorf("%s: %s: write %s: %w", o.cmd, o.flag, o.path, err)
	}
	return nil
}

// Abort removes the temporary file: the target stays as it was.
func (o *outFile) Abort() {
	o.tmp.Close()
	os.Remove(o.tmp.Name())
}

// writeOut writes path (given with flag) whole through an outFile: write
// fills it, and only a complete one replaces the file that was there.
func writeOut(cmd, flag, path string, write func(io.Writer) error, chips ...chipFile) error {
	o, err := createOut(cmd, flag, path, chips...)
	if err != nil {
		return err
	}
	if err := write(o); err != nil {
		o.Abort()
		return fmt.Errorf("%s: %s: write %s: %w", cmd, flag, path, err)
	}
	return o.Commit()
}

// renameSynced renames the written file tmp over path and syncs the folder,
// so that the rename itself survives a power cut. tmp must already be
// synced (bench's files are synced here: see syncFile).
func renameSynced(tmp, path string) error {
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncFile(filepath.Dir(path))
}

// syncFile flushes the file or folder at path to the device.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// refuseOutOnChip refuses (exit 2) an output file that is one of the
// command's chips: a simulated chip's image or wear file, or the MTD
// device, by path or, when it exists, as the same file (a symlink,
// another spelling). Writing an output there would destroy the chip.
func refuseOutOnChip(cmd, flag, out string, chips ...chipFile) error {
	outAbs, _ := filepath.Abs(out)
	outSt, outErr := os.Stat(out)
	for _, c := range chips {
		s, err := flashspec.Parse(c.spec)
		if err == nil {
			s, err = s.Resolve(mtd.ProcMTD) // mtd:name=PARTITION: its device
		}
		if err != nil || s.Path() == "" {
			continue // the open reports a bad spec; a chip in memory has no file
		}
		for _, p := range []string{s.Path(), s.Path() + ".wear"} {
			abs, _ := filepath.Abs(p)
			st, err := os.Stat(p)
			if abs == outAbs || (err == nil && outErr == nil && os.SameFile(st, outSt)) {
				return usageError("%s: %s %s is the %s's file %s: writing there would destroy the chip; give another file", cmd, flag, out, c.role, p)
			}
		}
	}
	return nil
}

// mkdirAllNew makes dir and its missing parents, as os.MkdirAll(dir,
// perm), and
// returns the folders it made, outermost first; on an error none of them
// is left.
func mkdirAllNew(dir string, perm os.FileMode) ([]string, error) {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil || !errors.Is(err, os.ErrNotExist) {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	slices.Reverse(missing)
	if err := os.MkdirAll(dir, perm); err != nil {
		for i := len(missing) - 1; i >= 0; i-- {
			os.Remove(missing[i])
		}
		return nil, err
	}
	return missing, nil
}
