package assets

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// ModuleName normalises a module or file name to the kernel's module name:
// no directory, no .ko[.xz|.zst|.gz] suffix, dashes as underscores.
func ModuleName(s string) string {
	s = filepath.Base(s)
	for _, suf := range []string{".xz", ".zst", ".gz"} {
		s = strings.TrimSuffix(s, suf)
	}
	s = strings.TrimSuffix(s, ".ko")
	return strings.ReplaceAll(s, "-", "_")
}

// ResolveModules finds the named modules under modDir (a
// /lib/modules/<release> folder), adds their dependencies (from each
// module's .modinfo "depends=" entry; modules listed in modules.builtin are
// part of the kernel and skipped) and returns them in load order, each
// dependency before its users. Compressed modules (.ko.xz, .ko.zst) are
// decompressed next to the original; Path is the absolute .ko path.
func ResolveModules(modDir string, names []string) ([]Module, error) {
	files := map[string]string{} // module name -> path
	err := filepath.WalkDir(filepath.Join(modDir, "kernel"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.Contains(d.Name(), ".ko") {
			n := ModuleName(d.Name())
			if prev, ok := files[n]; !ok || strings.HasSuffix(p, ".ko") && !strings.HasSuffix(prev, ".ko") {
				files[n] = p
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list kernel modules: %w", err)
	}
	builtin := map[string]bool{}
	if b, err := os.ReadFile(filepath.Join(modDir, "modules.builtin")); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if l := strings.TrimSpace(sc.Text()); l != "" {
				builtin[ModuleName(l)] = true
			}
		}
	}
	var order []Module
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name string, chain []string) error
	visit = func(name string, chain []string) error {
		switch state[name] {
		case 1:
			return fmt.Errorf("module dependency cycle: %s", strings.Join(append(chain, name), " -> "))
		case 2:
			return nil
		}
		path, ok := files[name]
		if !ok {
			if builtin[name] {
				state[name] = 2
				return nil
			}
			return fmt.Errorf("kernel module %s not found under %s (needed by %s)", name, modDir, strings.Join(append(chain, name), " -> "))
		}
		state[name] = 1
		ko, err := decompressed(path)
		if err != nil {
			return err
		}
		info, err := ReadModinfo(ko)
		if err != nil {
			return err
		}
		var deps []string
		for _, d := range strings.Split(info["depends"], ",") {
			if d = strings.TrimSpace(d); d != "" {
				deps = append(deps, ModuleName(d))
			}
		}
		for _, d := range deps {
			if err := visit(d, append(chain, name)); err != nil {
				return err
			}
		}
		state[name] = 2
		order = append(order, Module{Name: name, Path: ko, Depends: deps})
		return nil
	}
	for _, n := range names {
		if err := visit(ModuleName(n), nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// decompressed returns the path of an uncompressed copy of a module file.
func decompressed(path string) (string, error) {
	var open func(io.Reader) (io.Reader, error)
	switch {
	case strings.HasSuffix(path, ".ko"):
		return path, nil
	case strings.HasSuffix(path, ".ko.xz"):
		open = func(r io.Reader) (io.Reader, error) { return xz.NewReader(r) }
	case strings.HasSuffix(path, ".ko.zst"):
		open = func(r io.Reader) (io.Reader, error) {
			d, err := zstd.NewReader(r)
			if err != nil {
				return nil, err
			}
			return d.IOReadCloser(), nil
		}
	default:
		return "", fmt.Errorf("module %s: unsupported compression (want .ko, .ko.xz or .ko.zst)", path)
	}
	out := path[:strings.LastIndex(path, ".ko")+3]
	in, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer in.Close()
	r, err := open(in)
	if err != nil {
		return "", fmt.Errorf("decompress %s: %w", path, err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("decompress %s: %w", path, err)
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return "", err
	}
	return out, nil
}

// ReadModinfo returns the key=value pairs of a kernel module's .modinfo
// section (for repeated keys, the last wins).
func ReadModinfo(path string) (map[string]string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", path, err)
	}
	defer f.Close()
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, fmt.Errorf("module %s: no .modinfo section", path)
	}
	b, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", path, err)
	}
	return ParseModinfo(b)
}

// ErrBadModinfo is returned for a .modinfo section that is not a list of
// NUL-terminated key=value strings.
var ErrBadModinfo = errors.New("malformed .modinfo section")

// ParseModinfo parses the contents of a .modinfo section: NUL-separated
// key=value strings (empty strings, from padding, are ignored).
func ParseModinfo(b []byte) (map[string]string, error) {
	m := map[string]string{}
	for _, e := range bytes.Split(b, []byte{0}) {
		if len(e) == 0 {
			continue
		}
		k, v, ok := bytes.Cut(e, []byte("="))
		if !ok || len(k) == 0 {
			return nil, fmt.Errorf("%w: entry %q has no key=value", ErrBadModinfo, e)
		}
		m[string(k)] = string(v)
	}
	return m, nil
}
