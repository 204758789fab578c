package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWriteOut: an output file is replaced whole or not at all, never
// left half written, and no temporary file stays beside it.
func TestWriteOut(t *testing.T) {
	errBroken := errors.New("broken pipe in the middle")
	for _, tc := range []struct {
		name    string
		setup   func(t *testing.T, dir string) // before; the target is dir/out
		write   func(io.Writer) error
		code    int    // exit status of the error (0: none)
		want    string // in the error
		content string // of the target after ("": absent)
		perm    os.FileMode
	}{
		{name: "new file", write: text("new"), content: "new", perm: 0o644},
		{name: "replaces a file, keeping its mode", setup: file("old", 0o600), write: text("new"), content: "new", perm: 0o600},
		{name: "a failing write keeps the old content", setup: file("old", 0o644),
			write: func(w io.Writer) error { _, _ = io.WriteString(w, "half"); return errBroken },
			code:  1, want: "out: write", content: "old", perm: 0o644},
		{name: "a failing write of a new file leaves none", write: func(w io.Writer) error { _, _ = io.WriteString(w, "half"); return errBroken },
			code: 1, want: "broken pipe"},
		{name: "a folder is refused", setup: func(t *testing.T, dir string) { require.NoError(t, os.Mkdir(filepath.Join(dir, "out"), 0o755)) },
			write: text("new"), code: 2, want: "out is a folder"},
		{name: "through a symlink the file is replaced, the link stays", setup: func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "real"), []byte("old"), 0o644))
			require.NoError(t, os.Symlink("real", filepath.Join(dir, "out")))
		}, write: text("new"), content: "new", perm: 0o644},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			before := snapshotDir(t, dir)
			path := filepath.Join(dir, "out")
			err := writeOut("test", "--out", path, tc.write)
			require.Equal(t, tc.code, statusOf(err), "%v", err)
			if tc.want != "" {
				require.ErrorContains(t, err, tc.want)
				require.ErrorContains(t, err, path, "the error names the path")
			}
			if tc.code != 0 {
				require.Empty(t, unexpectedChanges(before, snapshotDir(t, dir), nil))
			}
			got, rerr := os.ReadFile(path)
			if tc.content == "" {
				if !errors.Is(rerr, os.ErrNotExist) {
					st, err := os.Stat(path)
					require.NoError(t, err)
					require.True(t, st.IsDir())
				}
			} else {
				require.NoError(t, rerr)
				require.Equal(t, tc.content, string(got))
				st, err := os.Stat(path)
				require.NoError(t, err)
				require.Equal(t, tc.perm, st.Mode().Perm())
			}
			ents, err := os.ReadDir(dir)
			require.NoError(t, err)
			for _, e := range ents {
				require.NotContains(t, e.Name(), ".tmp-", "a temporary file stayed")
			}
			if tc.name == "through a symlink the file is replaced, the link stays" {
				st, err := os.Lstat(path)
				require.NoError(t, err)
				require.Equal(t, os.ModeSymlink, st.Mode().Type())
			}
		})
	}
}

// TestOutFileRefusesChips: an output naming one of the command's chip
// files (the image, its wear file, or the same file by another path: a
// symlink, a hard link, another spelling) is refused before anything is
// created.
func TestOutFileRefusesChips(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "a.img")
	require.NoError(t, os.WriteFile(img, []byte("chip"), 0o644))
	require.NoError(t, os.Symlink("a.img", filepath.Join(dir, "link")))
	require.NoError(t, os.Link(img, filepath.Join(dir, "hard")))
	chip := chipFile{"primary", "sim:part=w25q256jv,size=4M,file=" + img}
	for _, out := range []string{img, img + ".wear", filepath.Join(dir, "link"), filepath.Join(dir, "hard"), filepath.Join(dir, ".", "a.img")} {
		before := snapshotDir(t, dir)
		o, err := createOut("test", "--out", out, chip)
		require.Nil(t, o)
		require.Equal(t, 2, statusOf(err), "%v", err)
		require.ErrorContains(t, err, "is the primary's file")
		require.Empty(t, unexpectedChanges(before, snapshotDir(t, dir), nil))
	}
	o, err := createOut("test", "--out", filepath.Join(dir, "other"), chip)
	require.NoError(t, err)
	o.Abort()
}

func text(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

func file(content string, perm os.FileMode) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		p := filepath.Join(dir, "out")
		require.NoError(t, os.WriteFile(p, []byte(content), perm))
		require.NoError(t, os.Chmod(p, perm))
	}
}
