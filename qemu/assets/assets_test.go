package assets

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseControl(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
	}{
		{"simple", "Package: linux-image-armmp\nVersion: 6.1.176-1\nDepends: linux-image-6.1.0-50-armmp (= 6.1.176-1)\n",
			map[string]string{"Package": "linux-image-armmp", "Version": "6.1.176-1", "Depends": "linux-image-6.1.0-50-armmp (= 6.1.176-1)"}},
		{"continuation and second stanza ignored", "Package: a\nDescription: x\n more\n\nPackage: b\n",
			map[string]string{"Package": "a", "Description": "x\nmore"}},
		{"crlf and leading blank", "\r\nPackage: a\r\nVersion: 1:2\r\n", map[string]string{"Package": "a", "Version": "1:2"}},
		{"empty", "", map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, ParseControl([]byte(tt.in)))
		})
	}
}

func TestSplitDepends(t *testing.T) {
	require.Equal(t, []string{"linux-image-6.1.0-50-armmp", "kmod", "a"},
		splitDepends("linux-image-6.1.0-50-armmp (= 6.1.176-1), kmod:any, a | b"))
	require.Empty(t, splitDepends(""))
}

func TestModuleNameAndDebFileName(t *testing.T) {
	for in, want := range map[string]string{
		"spi-aspeed-smc":                        "spi_aspeed_smc",
		"kernel/drivers/mtd/spi-nor/spi-nor.ko": "spi_nor",
		"nandsim.ko.xz":                         "nandsim",
		"/x/mtd.ko.zst":                         "mtd",
	} {
		require.Equal(t, want, ModuleName(in), in)
	}
	require.Equal(t, "busybox-static_1%3a1.35.0-4_armhf.deb", DebFileName("busybox-static", "1:1.35.0-4", "armhf"))
}

func TestParseModinfo(t *testing.T) {
	m, err := ParseModinfo([]byte("license=GPL\x00depends=mtd,nand\x00\x00\x00name=nandsim\x00"))
	require.NoError(t, err)
	require.Equal(t, map[string]string{"license": "GPL", "depends": "mtd,nand", "name": "nandsim"}, m)
	_, err = ParseModinfo([]byte("license=GPL\x00garbage\x00"))
	require.ErrorIs(t, err, ErrBadModinfo)
	_, err = ParseModinfo([]byte("=x\x00"))
	require.ErrorIs(t, err, ErrBadModinfo)
}

func FuzzParseModinfo(f *testing.F) {
	f.Add([]byte("depends=a,b\x00name=c\x00"))
	f.Add([]byte("\x00\x00"))
	f.Add([]byte("x"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseModinfo(b)
		if err != nil {
			require.ErrorIs(t, err, ErrBadModinfo)
			return
		}
		for k := range m {
			require.NotEmpty(t, k)
			require.NotContains(t, k, "\x00")
		}
	})
}

func FuzzParseControl(f *testing.F) {
	f.Add([]byte("Package: a\nVersion: 1\n"))
	f.Add([]byte(" x\n:y\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for k := range ParseControl(b) {
			require.NotContains(t, k, "\n")
		}
	})
}

// writeModule writes a minimal ELF64 relocatable file whose only content is
// a .modinfo section with the given entries (what a kernel module carries).
func writeModule(t *testing.T, path string, entries ...string) {
	t.Helper()
	modinfo := []byte(strings.Join(entries, "\x00") + "\x00")
	shstr := []byte("\x00.modinfo\x00.shstrtab\x00")
	const ehsize, shentsize = 64, 64
	dataOff := ehsize
	shstrOff := dataOff + len(modinfo)
	shOff := (shstrOff + len(shstr) + 7) &^ 7
	var b bytes.Buffer
	le := binary.LittleEndian
	b.Write([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0})
	b.Write(make([]byte, 8))
	for _, v := range []any{uint16(1), uint16(62), uint32(1), uint64(0), uint64(0), uint64(shOff),
		uint32(0), uint16(ehsize), uint16(0), uint16(0), uint16(shentsize), uint16(3), uint16(2)} {
		require.NoError(t, binary.Write(&b, le, v))
	}
	b.Write(modinfo)
	b.Write(shstr)
	b.Write(make([]byte, shOff-b.Len()))
	section := func(name, typ uint32, off, size int) {
		for _, v := range []any{name, typ, uint64(0), uint64(0), uint64(off), uint64(size), uint32(0), uint32(0), uint64(1), uint64(0)} {
			require.NoError(t, binary.Write(&b, le, v))
		}
	}
	section(0, 0, 0, 0)
	section(1, 1, dataOff, len(modinfo)) // .modinfo, PROGBITS
	section(10, 3, shstrOff, len(shstr)) // .shstrtab, STRTAB
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
}

func TestResolveModules(t *testing.T) {
	dir := t.TempDir()
	k := filepath.Join(dir, "kernel", "drivers")
	writeModule(t, filepath.Join(k, "mtd", "mtd.ko"), "name=mtd", "depends=")
	writeModule(t, filepath.Join(k, "lib", "bch.ko"), "name=bch", "depends=")
	writeModule(t, filepath.Join(k, "nand", "nandcore.ko"), "name=nandcore", "depends=mtd,bch")
	writeModule(t, filepath.Join(k, "nand", "nand.ko"), "name=nand", "depends=mtd,nandcore,builtin-thing")
	writeModule(t, filepath.Join(k, "nand", "nandsim.ko"), "name=nandsim", "depends=mtd,nand")
	writeModule(t, filepath.Join(k, "a", "loop-a.ko"), "depends=loop_b")
	writeModule(t, filepath.Join(k, "a", "loop-b.ko"), "depends=loop_a")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "modules.builtin"), []byte("kernel/drivers/x/builtin-thing.ko\n"), 0o644))

	tests := []struct {
		name    string
		want    []string
		wantErr string
	}{
		{"nandsim", []string{"mtd", "bch", "nandcore", "nand", "nandsim"}, ""},
		{"mtd", []string{"mtd"}, ""},
		{"missing", nil, "kernel module missing not found"},
		{"loop-a", nil, "dependency cycle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mods, err := ResolveModules(dir, []string{tt.name})
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			var names []string
			for _, m := range mods {
				names = append(names, m.Name)
				require.FileExists(t, m.Path)
			}
			require.Equal(t, tt.want, names)
		})
	}
}

// fakeApt imitates apt-cache, apt-get download and dpkg-deb -x for one
// kernel meta package, its versioned image and busybox-static.
type fakeApt struct {
	t     *testing.T
	calls []string
	known map[string]string // name:arch -> apt-cache show output
}

func (f *fakeApt) run(ctx context.Context, dir, name string, args ...string) ([]byte, error) {
	f.calls = append(f.calls, name+" "+strings.Join(args, " "))
	switch name {
	case "apt-cache":
		spec := args[len(args)-1]
		if out, ok := f.known[spec]; ok {
			return []byte(out), nil
		}
		return nil, fmt.Errorf("E: No packages found")
	case "apt-get":
		spec := args[len(args)-1]
		nameArch, version, _ := strings.Cut(spec, "=")
		pkg, arch, _ := strings.Cut(nameArch, ":")
		return nil, os.WriteFile(filepath.Join(dir, DebFileName(pkg, version, arch)), []byte("deb "+spec), 0o644)
	case "dpkg-deb":
		deb, root := args[1], args[2]
		files := map[string]string{}
		switch {
		case strings.Contains(deb, "busybox"):
			files["bin/busybox"] = "busybox"
		default:
			files["boot/vmlinuz-6.1.0-9-test"] = "kernel"
			files["usr/lib/linux-image-6.1.0-9-test/board.dtb"] = "dtb"
		}
		for p, c := range files {
			full := filepath.Join(root, p)
			require.NoError(f.t, os.MkdirAll(filepath.Dir(full), 0o755))
			require.NoError(f.t, os.WriteFile(full, []byte(c), 0o644))
		}
		if !strings.Contains(deb, "busybox") {
			writeModule(f.t, filepath.Join(root, "lib/modules/6.1.0-9-test/kernel/drivers/mtd/mtd.ko"), "name=mtd", "depends=")
		}
		return nil, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrMissingTool, name)
}

func TestFetch(t *testing.T) {
	v := Variant{Name: "test", Arch: "armhf", KernelMeta: "linux-image-test", DTB: "board.dtb", Modules: []string{"mtd"}}
	fake := &fakeApt{t: t, known: map[string]string{
		"linux-image-test:armhf":         "Package: linux-image-test\nVersion: 1\nDepends: linux-image-6.1.0-9-test (= 1)\n",
		"linux-image-6.1.0-9-test:armhf": "Package: linux-image-6.1.0-9-test\nVersion: 6.1.1-1\nSize: 10\n",
		"busybox-static:armhf":           "Package: busybox-static\nVersion: 1:1.35\n",
	}}
	dir := t.TempDir()
	var progress bytes.Buffer
	m, err := Fetch(context.Background(), v, Options{Dir: dir, Run: fake.run, Progress: &progress})
	require.NoError(t, err)
	require.Equal(t, "6.1.0-9-test", m.KernelRelease)
	require.Len(t, m.Packages, 2)
	require.Equal(t, "1:1.35", m.Packages[1].Version)
	require.Len(t, m.Packages[0].SHA256, 64)
	require.Equal(t, []Module{{Name: "mtd", Path: "root/lib/modules/6.1.0-9-test/kernel/drivers/mtd/mtd.ko"}}, m.Modules)
	require.FileExists(t, m.Path(m.DTB))
	require.Contains(t, progress.String(), "downloading linux-image-6.1.0-9-test:armhf=6.1.1-1")

	// A second Fetch reuses the cache without calling apt.
	n := len(fake.calls)
	m2, err := Fetch(context.Background(), v, Options{Dir: dir, Run: fake.run})
	require.NoError(t, err)
	require.Equal(t, n, len(fake.calls))
	require.Equal(t, m.KernelRelease, m2.KernelRelease)

	// A variant naming a module the cached manifest lacks: resolved from
	// the unpacked kernel, no apt call, and the manifest rewritten.
	writeModule(t, filepath.Join(dir, "test", "root/lib/modules/6.1.0-9-test/kernel/drivers/net/ftgmac100.ko"), "name=ftgmac100", "depends=mtd")
	v.Modules = []string{"mtd", "ftgmac100"}
	m3, err := Fetch(context.Background(), v, Options{Dir: dir, Run: fake.run})
	require.NoError(t, err)
	require.Equal(t, n, len(fake.calls))
	require.Len(t, m3.Modules, 2)
	require.Equal(t, "ftgmac100", m3.Modules[1].Name)
	m4, err := Load(filepath.Join(dir, "test"))
	require.NoError(t, err)
	require.Equal(t, m3.Modules, m4.Modules)
	v.Modules = []string{"nosuch"}
	_, err = Fetch(context.Background(), v, Options{Dir: dir, Run: fake.run})
	require.ErrorContains(t, err, "kernel module nosuch not found")
}

func TestFetchErrorsSayWhatToDo(t *testing.T) {
	v := Variant{Name: "test", Arch: "armhf", KernelMeta: "linux-image-test"}
	fake := &fakeApt{t: t, known: map[string]string{}}
	_, err := Fetch(context.Background(), v, Options{Dir: t.TempDir(), Run: fake.run})
	require.ErrorIs(t, err, ErrMissingPackage)
	require.ErrorContains(t, err, "dpkg --add-architecture armhf && apt-get update")

	noTools := func(ctx context.Context, dir, name string, args ...string) ([]byte, error) {
		return nil, fmt.Errorf("%w: %s not found in PATH", ErrMissingTool, name)
	}
	_, err = Fetch(context.Background(), v, Options{Dir: t.TempDir(), Run: noTools})
	require.True(t, errors.Is(err, ErrMissingTool))
	require.ErrorContains(t, err, "apt-get install -y apt")
}

func TestLookupVariant(t *testing.T) {
	v, err := LookupVariant("arm")
	require.NoError(t, err)
	require.Equal(t, "aspeed-bmc-facebook-fuji.dtb", v.DTB)
	_, err = LookupVariant("mips")
	require.ErrorContains(t, err, "want arm or x86")
}
