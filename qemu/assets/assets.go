package assets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Variant says which machine the assets are for.
type Variant struct {
	// Name is "arm" or "x86"; it names the cache sub-folder.
	Name string
	// Arch is the Debian architecture: "armhf" or "amd64".
	Arch string
	// KernelMeta is the meta package that depends on the current versioned
	// kernel image package, e.g. "linux-image-armmp".
	KernelMeta string
	// DTB is the device tree file name shipped with the kernel ("" for none).
	DTB string
	// Modules are the modules to load, in order, without dependencies
	// (Fetch adds those, each before its first user).
	Modules []string
}

// ARM is the emulated AST2600 BMC (qemu-system-arm -M fuji-bmc) with the
// ASPEED SPI flash controller driver and the ASPEED MAC (ftgmac100, with
// its MDIO bus) for QEMU user networking.
var ARM = Variant{
	Name:       "arm",
	Arch:       "armhf",
	KernelMeta: "linux-image-armmp",
	DTB:        "aspeed-bmc-facebook-fuji.dtb",
	Modules:    []string{"ofpart", "spi-nor", "spi-aspeed-smc", "mdio-aspeed", "ftgmac100"},
}

// X86 is the faster x86-64 variant with MTD simulators: mtdram, block2mtd
// and nandsim (NAND with injected bad blocks and bit flips), and virtio
// disks (to carry chip dumps to the host, or as block2mtd's backing).
var X86 = Variant{
	Name:       "x86",
	Arch:       "amd64",
	KernelMeta: "linux-image-amd64",
	Modules:    []string{"virtio_pci", "virtio_blk", "mtd", "mtdram", "block2mtd", "nandsim"},
}

// Variants returns the known variants.
func Variants() []Variant { return []Variant{ARM, X86} }

// LookupVariant returns the variant with the given name.
func LookupVariant(name string) (Variant, error) {
	for _, v := range Variants() {
		if v.Name == name {
			return v, nil
		}
	}
	return Variant{}, fmt.Errorf("unknown vm variant %q (want arm or x86)", name)
}

// Package records one Debian package that was used.
type Package struct {
	Name    string `json:"name"`
	Arch    string `json:"arch"`
	Version string `json:"version"`
	// File is the .deb, relative to the variant's cache folder.
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
}

// Module is one kernel module to load.
type Module struct {
	// Name is the module's name as the kernel knows it (underscores).
	Name string `json:"name"`
	// Path is the uncompressed .ko file, relative to the variant folder.
	Path string `json:"path"`
	// Depends lists the modules it needs (already earlier in the list).
	Depends []string `json:"depends,omitempty"`
}

// Manifest records what Fetch used. Paths are relative to Dir.
type Manifest struct {
	Variant       string    `json:"variant"`
	KernelRelease string    `json:"kernel_release"`
	Packages      []Package `json:"packages"`
	Kernel        string    `json:"kernel"`
	DTB           string    `json:"dtb,omitempty"`
	Busybox       string    `json:"busybox"`
	Modules       []Module  `json:"modules"`
	Fetched       time.Time `json:"fetched"`

	// Dir is the variant's cache folder (not stored).
	Dir string `json:"-"`
}

// Path returns the absolute path of a manifest-relative file name.
func (m *Manifest) Path(rel string) string { return filepath.Join(m.Dir, rel) }

// ManifestFile is the manifest's file name inside the variant folder.
const ManifestFile = "manifest.json"

// Options controls Fetch.
type Options struct {
	// Dir is the cache root; the variant's files go to Dir/<variant>.
	// Empty means DefaultCacheDir().
	Dir string
	// Refresh resolves and downloads again even when the cache is complete.
	Refresh bool
	// Progress receives one line per step (nil: discarded).
	Progress io.Writer
	// Run runs external commands; nil means the real ones (apt-cache,
	// apt-get, dpkg-deb). Tests substitute a fake.
	Run Runner
}

// Runner runs an external command in dir and returns its standard output.
// A failing command returns an error that includes its standard error.
type Runner func(ctx context.Context, dir string, name string, args ...string) ([]byte, error)

// DefaultCacheDir returns $CMCSYNC_CACHE if set, else
// $XDG_CACHE_HOME/cmcsync/qemu (usually ~/.cache/cmcsync/qemu).
func DefaultCacheDir() string {
	if d := os.Getenv("CMCSYNC_CACHE"); d != "" {
		return d
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "cmcsync", "qemu")
}

// ErrMissingTool is wrapped by errors about a missing host program.
var ErrMissingTool = errors.New("missing host tool")

// ErrMissingPackage is wrapped by errors about a package apt does not know.
var ErrMissingPackage = errors.New("package not found")

// Fetch makes sure the variant's assets are in the cache and returns their
// manifest. It reuses a complete cache unless o.Refresh is set.
func Fetch(ctx context.Context, v Variant, o Options) (*Manifest, error) {
	root := o.Dir
	if root == "" {
		root = DefaultCacheDir()
	}
	dir := filepath.Join(root, v.Name)
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	if !o.Refresh {
		if m, err := Load(dir); err == nil {
			fmt.Fprintf(progress, "assets: using cached %s kernel %s (%s)\n", v.Name, m.KernelRelease, dir)
			if m.lacksModules(v.Modules) {
				// The variant names modules the cached manifest does not
				// list: resolve them from the unpacked kernel, no download.
				return m, m.resolveModules(v, progress)
			}
			return m, nil
		}
	}
	run := o.Run
	if run == nil {
		run = execRunner
	}
	if err := os.MkdirAll(filepath.Join(dir, "debs"), 0o755); err != nil {
		return nil, fmt.Errorf("create cache folder: %w", err)
	}
	f := fetcher{ctx: ctx, v: v, dir: dir, run: run, progress: progress}
	return f.fetch()
}

// Load reads the manifest of a variant folder and checks that every file it
// names exists.
func Load(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	m := &Manifest{}
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("decode manifest %s: %w", filepath.Join(dir, ManifestFile), err)
	}
	m.Dir = dir
	files := []string{m.Kernel, m.Busybox}
	if m.DTB != "" {
		files = append(files, m.DTB)
	}
	for _, mod := range m.Modules {
		files = append(files, mod.Path)
	}
	for _, f := range files {
		if f == "" {
			return nil, fmt.Errorf("manifest %s is incomplete", dir)
		}
		if _, err := os.Stat(m.Path(f)); err != nil {
			return nil, fmt.Errorf("cached asset missing: %w", err)
		}
	}
	return m, nil
}

type fetcher struct {
	ctx      context.Context
	v        Variant
	dir      string
	run      Runner
	progress io.Writer
}

func (f *fetcher) logf(format string, a ...any) {
	fmt.Fprintf(f.progress, "assets: "+format+"\n", a...)
}

func (f *fetcher) fetch() (*Manifest, error) {
	v := f.v
	f.logf("resolving %s:%s", v.KernelMeta, v.Arch)
	meta, err := f.show(v.KernelMeta)
	if err != nil {
		return nil, err
	}
	image := ""
	for _, d := range splitDepends(meta["Depends"]) {
		if strings.HasPrefix(d, "linux-image-") {
			image = d
			break
		}
	}
	if image == "" {
		return nil, fmt.Errorf("%s:%s does not depend on a versioned linux-image package (Depends: %q)", v.KernelMeta, v.Arch, meta["Depends"])
	}
	release := strings.TrimPrefix(image, "linux-image-")
	m := &Manifest{Variant: v.Name, KernelRelease: release, Dir: f.dir, Fetched: time.Now().UTC()}
	root := filepath.Join(f.dir, "root")
	if err := os.RemoveAll(root); err != nil {
		return nil, fmt.Errorf("clear %s: %w", root, err)
	}
	for _, name := range []string{image, "busybox-static"} {
		p, err := f.download(name)
		if err != nil {
			return nil, err
		}
		f.logf("unpacking %s", p.File)
		if _, err := f.run(f.ctx, f.dir, "dpkg-deb", "-x", filepath.Join(f.dir, p.File), root); err != nil {
			return nil, hint(err, "dpkg-deb", "dpkg")
		}
		m.Packages = append(m.Packages, p)
	}
	m.Kernel = filepath.Join("root", "boot", "vmlinuz-"+release)
	m.Busybox = filepath.Join("root", "bin", "busybox")
	if v.DTB != "" {
		m.DTB = filepath.Join("root", "usr", "lib", "linux-image-"+release, v.DTB)
	}
	for _, p := range []string{m.Kernel, m.Busybox, m.DTB} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(m.Path(p)); err != nil {
			return nil, fmt.Errorf("package contents changed: %w", err)
		}
	}
	mods, err := ResolveModules(filepath.Join(root, "lib", "modules", release), v.Modules)
	if err != nil {
		return nil, err
	}
	for _, mod := range mods {
		rel, err := filepath.Rel(f.dir, mod.Path)
		if err != nil {
			return nil, err
		}
		mod.Path = rel
		m.Modules = append(m.Modules, mod)
	}
	names := make([]string, len(m.Modules))
	for i, mod := range m.Modules {
		names[i] = mod.Name
	}
	f.logf("modules in load order: %s", strings.Join(names, " "))
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(f.dir, ManifestFile), append(b, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("write manifest: %w", err)
	}
	f.logf("%s assets ready in %s", v.Name, f.dir)
	return m, nil
}

// show returns the fields of `apt-cache show` for the candidate version.
func (f *fetcher) show(name string) (map[string]string, error) {
	spec := name + ":" + f.v.Arch
	out, err := f.run(f.ctx, f.dir, "apt-cache", "show", "--no-all-versions", spec)
	if err != nil {
		if errors.Is(err, ErrMissingTool) {
			return nil, hint(err, "apt-cache", "apt")
		}
		return nil, fmt.Errorf("%w: apt does not know %s (%v); %s", ErrMissingPackage, spec, err, f.indexHint())
	}
	fields := ParseControl(out)
	if fields["Package"] == "" {
		return nil, fmt.Errorf("%w: apt does not know %s; %s", ErrMissingPackage, spec, f.indexHint())
	}
	return fields, nil
}

func (f *fetcher) indexHint() string {
	if f.v.Arch == "amd64" {
		return "run: apt-get update"
	}
	return fmt.Sprintf("run: dpkg --add-architecture %s && apt-get update (a partial index error for the foreign architecture is harmless)", f.v.Arch)
}

// download fetches the candidate version of name into dir/debs.
func (f *fetcher) download(name string) (Package, error) {
	fields, err := f.show(name)
	if err != nil {
		return Package{}, err
	}
	version := fields["Version"]
	spec := name + ":" + f.v.Arch + "=" + version
	debs := filepath.Join(f.dir, "debs")
	file := DebFileName(name, version, f.v.Arch)
	path := filepath.Join(debs, file)
	if _, err := os.Stat(path); err != nil {
		f.logf("downloading %s (%s)", spec, fields["Size"]+" bytes")
		if _, err := f.run(f.ctx, debs, "apt-get", "download", spec); err != nil {
			if errors.Is(err, ErrMissingTool) {
				return Package{}, hint(err, "apt-get", "apt")
			}
			return Package{}, fmt.Errorf("download %s: %w (check the network and %s)", spec, err, f.indexHint())
		}
	} else {
		f.logf("already downloaded %s", file)
	}
	sum, err := FileSHA256(path)
	if err != nil {
		return Package{}, fmt.Errorf("downloaded %s but cannot read it: %w", spec, err)
	}
	return Package{Name: name, Arch: f.v.Arch, Version: version, File: filepath.Join("debs", file), SHA256: sum}, nil
}

// DebFileName is the file name `apt-get download` gives a package: the epoch's
// colon is URL-escaped as %3a.
func DebFileName(name, version, arch string) string {
	return fmt.Sprintf("%s_%s_%s.deb", name, strings.ReplaceAll(version, ":", "%3a"), arch)
}

// ParseControl parses the first stanza of Debian control-file text (as
// printed by apt-cache show) into field name → value. Continuation lines are
// joined with newlines.
func ParseControl(b []byte) map[string]string {
	fields := map[string]string{}
	last := ""
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			if len(fields) > 0 {
				break
			}
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if last != "" {
				fields[last] += "\n" + strings.TrimSpace(line)
			}
			continue
		}
		k, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		last = k
		fields[k] = strings.TrimSpace(val)
	}
	return fields
}

// splitDepends returns the package names of a Depends field, ignoring
// version constraints and alternatives after the first.
func splitDepends(s string) []string {
	var names []string
	for _, d := range strings.Split(s, ",") {
		d, _, _ = strings.Cut(d, "|")
		d = strings.TrimSpace(d)
		if i := strings.IndexAny(d, " (:"); i >= 0 {
			d = d[:i]
		}
		if d != "" {
			names = append(names, d)
		}
	}
	return names
}

func hint(err error, tool, pkg string) error {
	if errors.Is(err, ErrMissingTool) {
		return fmt.Errorf("%w (install it: apt-get install -y %s)", err, pkg)
	}
	return fmt.Errorf("%s: %w", tool, err)
}

func execRunner(ctx context.Context, dir, name string, args ...string) ([]byte, error) {
	if _, err := exec.LookPath(name); err != nil {
		return nil, fmt.Errorf("%w: %s not found in PATH", ErrMissingTool, name)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 400 {
			msg = msg[len(msg)-400:]
		}
		return out, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, msg)
	}
	return out, nil
}

// lacksModules reports whether a module of names is not in the manifest.
func (m *Manifest) lacksModules(names []string) bool {
	have := map[string]bool{}
	for _, mod := range m.Modules {
		have[mod.Name] = true
	}
	for _, n := range names {
		if !have[ModuleName(n)] {
			return true
		}
	}
	return false
}

// resolveModules resolves v's modules from the unpacked kernel in the
// cache and rewrites the manifest (atomically: concurrent runs read either
// manifest whole).
func (m *Manifest) resolveModules(v Variant, progress io.Writer) error {
	mods, err := ResolveModules(filepath.Join(m.Dir, "root", "lib", "modules", m.KernelRelease), v.Modules)
	if err != nil {
		return err
	}
	m.Modules = m.Modules[:0]
	names := make([]string, 0, len(mods))
	for _, mod := range mods {
		rel, err := filepath.Rel(m.Dir, mod.Path)
		if err != nil {
			return err
		}
		mod.Path = rel
		m.Modules = append(m.Modules, mod)
		names = append(names, mod.Name)
	}
	fmt.Fprintf(progress, "assets: modules in load order: %s\n", strings.Join(names, " "))
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(m.Dir, ManifestFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return os.Rename(tmp, filepath.Join(m.Dir, ManifestFile))
}
