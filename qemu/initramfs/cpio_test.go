package initramfs

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/qemu/assets"
)

type entry struct {
	name string
	mode uint32
	data string
}

// readCPIO decodes a newc archive (the test's independent reader).
func readCPIO(t *testing.T, b []byte) []entry {
	t.Helper()
	var out []entry
	off := 0
	align := func(n int) int { return (n + 3) &^ 3 }
	for {
		require.GreaterOrEqual(t, len(b)-off, 110, "truncated header at %d", off)
		h := b[off : off+110]
		require.Equal(t, "070701", string(h[:6]))
		field := func(i int) uint32 {
			v, err := strconv.ParseUint(string(h[6+8*i:14+8*i]), 16, 32)
			require.NoError(t, err)
			return uint32(v)
		}
		mode, size, namesize := field(1), int(field(6)), int(field(11))
		name := string(b[off+110 : off+110+namesize-1])
		require.Equal(t, byte(0), b[off+110+namesize-1])
		off = align(off + 110 + namesize)
		data := string(b[off : off+size])
		off = align(off + size)
		if name == "TRAILER!!!" {
			require.Zero(t, len(b)%512)
			return out
		}
		out = append(out, entry{name, mode, data})
	}
}

func TestWriterRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	require.NoError(t, w.Dir("bin", 0o755))
	require.NoError(t, w.File("/bin/busybox", 0o755, []byte("ELF...")))
	require.NoError(t, w.Symlink("bin/sh", "busybox"))
	require.NoError(t, w.File("init", 0o755, []byte("#!/bin/sh\n")))
	require.NoError(t, w.File("empty", 0o644, nil))
	require.True(t, w.Has("bin/sh"))
	require.NoError(t, w.Close())
	require.Equal(t, []entry{
		{"bin", modeDir | 0o755, ""},
		{"bin/busybox", modeRegular | 0o755, "ELF..."},
		{"bin/sh", modeSymlink | 0o777, "busybox"},
		{"init", modeRegular | 0o755, "#!/bin/sh\n"},
		{"empty", modeRegular | 0o644, ""},
	}, readCPIO(t, buf.Bytes()))
}

func TestWriterRejectsBadNames(t *testing.T) {
	tests := []struct {
		name  string
		write func(w *Writer) error
	}{
		{"empty", func(w *Writer) error { return w.File("", 0o644, nil) }},
		{"escapes", func(w *Writer) error { return w.File("../x", 0o644, nil) }},
		{"dot", func(w *Writer) error { return w.Dir(".", 0o755) }},
		{"no parent", func(w *Writer) error { return w.File("a/b", 0o644, nil) }},
		{"twice", func(w *Writer) error { _ = w.Dir("a", 0o755); return w.Dir("a/", 0o755) }},
		{"empty link", func(w *Writer) error { return w.Symlink("l", "") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorIs(t, tt.write(NewWriter(io.Discard)), ErrBadName)
		})
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, fmt.Errorf("disk full")
	}
	return len(p), nil
}

func TestWriterStickyError(t *testing.T) {
	w := NewWriter(&failWriter{n: 200})
	require.NoError(t, w.Dir("a", 0o755))
	require.ErrorContains(t, w.File("a/b", 0o644, make([]byte, 500)), "disk full")
	require.ErrorContains(t, w.Close(), "disk full")
}

func TestWriteImage(t *testing.T) {
	dir := t.TempDir()
	put := func(rel, content string) string {
		p := filepath.Join(dir, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return rel
	}
	m := &assets.Manifest{Dir: dir, Variant: "x86", Busybox: put("root/bin/busybox", "BB"),
		Modules: []assets.Module{{Name: "mtd", Path: put("m/mtd.ko", "MTD")}, {Name: "nandsim", Path: put("m/nandsim.ko", "NS")}}}
	bin := filepath.Join(dir, put("cmcsync", "CMC"))
	for _, compress := range []bool{false, true} {
		var buf bytes.Buffer
		require.NoError(t, Write(&buf, Spec{Manifest: m, Cmcsync: bin, NoAutoload: []string{"nandsim"}, Compress: compress}))
		raw := buf.Bytes()
		if compress {
			zr, err := gzip.NewReader(&buf)
			require.NoError(t, err)
			raw, err = io.ReadAll(zr)
			require.NoError(t, err)
		}
		files := map[string]string{}
		for _, e := range readCPIO(t, raw) {
			files[e.name] = e.data
		}
		require.Equal(t, "BB", files["bin/busybox"])
		require.Equal(t, "busybox", files["bin/sh"])
		require.Equal(t, "CMC", files["bin/cmcsync"])
		require.Equal(t, "NS", files["lib/modules/nandsim.ko"])
		require.Contains(t, files["init"], "insmod /lib/modules/mtd.ko")
		require.NotContains(t, files["init"], "insmod /lib/modules/nandsim.ko")
		require.Contains(t, files["init"], MarkerReady)
	}
	require.ErrorContains(t, Write(io.Discard, Spec{Manifest: m}), "no cmcsync binary")
	require.ErrorContains(t, Write(io.Discard, Spec{Manifest: m, Cmcsync: filepath.Join(dir, "nope")}), "read cmcsync binary")
}

func TestFindModuleRootAndTargets(t *testing.T) {
	root, err := FindModuleRoot(".")
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(root, "cmd", "cmcsync", "main.go"))
	_, err = FindModuleRoot(t.TempDir())
	require.ErrorContains(t, err, "run from the cmcsync checkout")

	tg, err := TargetFor("armhf")
	require.NoError(t, err)
	require.Equal(t, Target{GOARCH: "arm", GOARM: "7"}, tg)
	_, err = TargetFor("mips")
	require.Error(t, err)
}
