package vm

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/cmcsync/cmcsync/qemu/assets"
	"github.com/cmcsync/cmcsync/qemu/initramfs"
)

// BuildOptions controls Build.
type BuildOptions struct {
	// Variant is assets.ARM or assets.X86.
	Variant assets.Variant
	// CacheDir is the asset cache root ("" = assets.DefaultCacheDir()).
	CacheDir string
	// Refresh re-resolves and re-downloads the Debian packages.
	Refresh bool
	// Src is the cmcsync module checkout to cross-compile ("" = found by
	// walking up from the working directory).
	Src string
	// Progress receives one line per step (nil: discarded).
	Progress io.Writer
}

// Image is a built CMC image: the assets and the initramfs.
type Image struct {
	Manifest *assets.Manifest
	// Initrd is the initramfs path.
	Initrd string
	// Cmcsync is the cross-compiled guest binary.
	Cmcsync string
	// BuildTime is how long Build took.
	BuildTime time.Duration
}

// NoAutoload lists the modules /init leaves for a scenario to load with
// parameters (the x86 MTD simulators).
var NoAutoload = []string{"mtdram", "block2mtd", "nandsim"}

// Build fetches the variant's assets (cached), cross-compiles cmcsync for the
// guest and writes the initramfs into the variant's cache folder.
func Build(ctx context.Context, o BuildOptions) (*Image, error) {
	start := time.Now()
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	m, err := assets.Fetch(ctx, o.Variant, assets.Options{Dir: o.CacheDir, Refresh: o.Refresh, Progress: progress})
	if err != nil {
		return nil, err
	}
	src := o.Src
	if src == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		if src, err = initramfs.FindModuleRoot(wd); err != nil {
			return nil, err
		}
	}
	target, err := initramfs.TargetFor(o.Variant.Arch)
	if err != nil {
		return nil, err
	}
	// Every build writes its own files, named by content, so concurrent
	// runs sharing the cache never boot each other's guest binary.
	tmp, err := os.MkdirTemp(m.Dir, "build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(progress, "build: cross-compiling cmcsync for linux/%s (GOARM=%s) from %s\n", target.GOARCH, target.GOARM, src)
	tmpBin := filepath.Join(tmp, "cmcsync")
	if err := initramfs.CrossCompile(ctx, src, target, tmpBin); err != nil {
		return nil, err
	}
	bin, err := placeByContent(tmpBin, m.Dir, "cmcsync-"+target.GOARCH+"-", "")
	if err != nil {
		return nil, err
	}
	tmpInitrd := filepath.Join(tmp, "initrd")
	spec := initramfs.Spec{Manifest: m, Cmcsync: bin, NoAutoload: NoAutoload, Compress: true}
	if err := initramfs.WriteFile(tmpInitrd, spec); err != nil {
		return nil, err
	}
	initrd, err := placeByContent(tmpInitrd, m.Dir, "cmc-initrd-", ".cpio.gz")
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "build: wrote initramfs %s\n", initrd)
	removeStale(m.Dir, "cmc-initrd-", initrd)
	removeStale(m.Dir, "cmcsync-"+target.GOARCH+"-", bin)
	st, err := os.Stat(initrd)
	if err != nil {
		return nil, err
	}
	img := &Image{Manifest: m, Initrd: initrd, Cmcsync: bin, BuildTime: time.Since(start)}
	fmt.Fprintf(progress, "build: %s image ready: kernel %s, initramfs %s, in %v\n",
		o.Variant.Name, m.KernelRelease, sizeString(st.Size()), img.BuildTime.Round(time.Millisecond))
	return img, nil
}

func sizeString(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// CreateFlashImage creates (or truncates to) an erased NOR chip image of
// FlashImageSize bytes: all 0xFF.
func CreateFlashImage(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create flash image: %w", err)
	}
	block := make([]byte, 1<<20)
	for i := range block {
		block[i] = 0xFF
	}
	for off := int64(0); off < FlashImageSize; off += int64(len(block)) {
		if _, err := f.Write(block); err != nil {
			f.Close()
			return fmt.Errorf("create flash image: %w", err)
		}
	}
	return f.Close()
}

// placeByContent renames tmp into dir as prefix + the first 12 hex digits of
// its sha256 + suffix, and returns that path. An identical file already
// there is kept (and tmp removed).
func placeByContent(tmp, dir, prefix, suffix string) (string, error) {
	sum, err := assets.FileSHA256(tmp)
	if err != nil {
		return "", err
	}
	dst := filepath.Join(dir, prefix+sum[:12]+suffix)
	if _, err := os.Stat(dst); err == nil {
		// Reused: renew its time, or a concurrent build would remove it
		// as stale while this run boots it.
		now := time.Now()
		_ = os.Chtimes(dst, now, now)
		return dst, os.Remove(tmp)
	}
	return dst, os.Rename(tmp, dst)
}

// staleAge is how long a previous build's file must have gone unused (no
// build reusing it, no boot: both renew its time) before Build removes it,
// since a concurrent run may still be booting it.
const staleAge = 2 * time.Hour

// removeStale removes files in dir named prefix* other than keep, older than
// staleAge.
func removeStale(dir, prefix, keep string) {
	matches, _ := filepath.Glob(filepath.Join(dir, prefix+"*"))
	for _, p := range matches {
		if p == keep {
			continue
		}
		if st, err := os.Stat(p); err == nil && time.Since(st.ModTime()) > staleAge {
			os.Remove(p)
		}
	}
}
