package initramfs

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/cmcsync/cmcsync/qemu/assets"
)

// Guest paths inside the image.
const (
	// GuestCmcsync is where the cross-compiled cmcsync binary lives.
	GuestCmcsync = "/bin/cmcsync"
	// GuestModules is the folder holding the kernel modules (NAME.ko).
	GuestModules = "/lib/modules"
)

// Console markers printed by /init; the host waits for them.
const (
	// MarkerModules is printed after the autoloaded modules are in.
	MarkerModules = "@@CMC modules-loaded@@"
	// MarkerReady is printed just before the shell starts.
	MarkerReady = "@@CMC ready@@"
	// MarkerInsmodFailed prefixes the name of a module that failed to load.
	MarkerInsmodFailed = "@@CMC insmod-failed "
)

// Spec says what goes into the CMC image.
type Spec struct {
	// Manifest gives busybox and the kernel modules.
	Manifest *assets.Manifest
	// Cmcsync is the host path of the cross-compiled cmcsync binary
	// (required).
	Cmcsync string
	// NoAutoload names modules that are put in the image but not loaded by
	// /init, because they need parameters a scenario chooses (e.g. nandsim);
	// load them later with `insmod /lib/modules/NAME.ko ARGS`.
	NoAutoload []string
	// Compress gzips the archive (the kernel also accepts it plain, which
	// unpacks faster under emulation).
	Compress bool
}

// busyboxApplets get symlinks in /bin; /init also runs `busybox --install`
// so every applet is there.
var busyboxApplets = []string{
	"sh", "ash", "mount", "umount", "insmod", "lsmod", "rmmod", "cat", "echo",
	"ls", "mkdir", "sleep", "reboot", "poweroff", "sync", "dd", "hexdump",
	"md5sum", "sha256sum", "cut", "grep", "dmesg", "setsid", "cttyhack",
	"date", "uname", "true", "false", "test", "[", "wc", "head", "tail",
}

// InitScript returns the /init shell script: it mounts proc, sysfs, devtmpfs
// and a tmpfs on /tmp, quiets the kernel console, loads the modules in
// order, prints /proc/mtd and MarkerReady, and starts a shell on the console.
func InitScript(load []string) string {
	var b strings.Builder
	b.WriteString(`#!/bin/sh
/bin/busybox --install -s /bin 2>/dev/null
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
echo 1 > /proc/sys/kernel/printk
echo "@@CMC init uptime=$(cut -d' ' -f1 /proc/uptime)@@"
`)
	for _, m := range load {
		fmt.Fprintf(&b, "insmod %s/%s.ko || echo \"%s%s@@\"\n", GuestModules, m, MarkerInsmodFailed, m)
	}
	fmt.Fprintf(&b, `echo "%s"
cat /proc/mtd
export PS1='cmc# '
echo "%s uptime=$(cut -d' ' -f1 /proc/uptime)"
exec setsid cttyhack sh
`, MarkerModules, MarkerReady)
	return b.String()
}

// Write writes the CMC image (a cpio newc archive, gzipped if s.Compress)
// to w.
func Write(w io.Writer, s Spec) error {
	if s.Manifest == nil {
		return errors.New("initramfs: no asset manifest")
	}
	if s.Cmcsync == "" {
		return errors.New("initramfs: no cmcsync binary given")
	}
	out := w
	var gz *gzip.Writer
	if s.Compress {
		gz = gzip.NewWriter(w)
		out = gz
	}
	cw := NewWriter(out)
	for _, d := range []string{"bin", "dev", "etc", "lib", "lib/modules", "proc", "sys", "tmp", "root", "var"} {
		if err := cw.Dir(d, 0o755); err != nil {
			return err
		}
	}
	bb, err := os.ReadFile(s.Manifest.Path(s.Manifest.Busybox))
	if err != nil {
		return fmt.Errorf("read busybox: %w", err)
	}
	if err := cw.File("bin/busybox", 0o755, bb); err != nil {
		return err
	}
	for _, a := range busyboxApplets {
		if err := cw.Symlink("bin/"+a, "busybox"); err != nil {
			return err
		}
	}
	cm, err := os.ReadFile(s.Cmcsync)
	if err != nil {
		return fmt.Errorf("read cmcsync binary: %w", err)
	}
	if err := cw.File(strings.TrimPrefix(GuestCmcsync, "/"), 0o755, cm); err != nil {
		return err
	}
	skip := map[string]bool{}
	for _, n := range s.NoAutoload {
		skip[assets.ModuleName(n)] = true
	}
	var load []string
	for _, m := range s.Manifest.Modules {
		ko, err := os.ReadFile(s.Manifest.Path(m.Path))
		if err != nil {
			return fmt.Errorf("read module %s: %w", m.Name, err)
		}
		if err := cw.File(strings.TrimPrefix(GuestModules, "/")+"/"+m.Name+".ko", 0o644, ko); err != nil {
			return err
		}
		if !skip[m.Name] {
			load = append(load, m.Name)
		}
	}
	if err := cw.File("init", 0o755, []byte(InitScript(load))); err != nil {
		return err
	}
	if err := cw.Close(); err != nil {
		return err
	}
	if gz != nil {
		return gz.Close()
	}
	return nil
}

// WriteFile writes the image to path (atomically: a temporary file renamed
// into place).
func WriteFile(path string, s Spec) error {
	var buf bytes.Buffer
	if err := Write(&buf, s); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write image: %w", err)
	}
	return os.Rename(tmp, path)
}

// Target is a Go cross-compilation target.
type Target struct{ GOARCH, GOARM string }

// TargetFor returns the Go target matching a Debian architecture.
func TargetFor(debArch string) (Target, error) {
	switch debArch {
	case "armhf":
		return Target{GOARCH: "arm", GOARM: "7"}, nil
	case "amd64":
		return Target{GOARCH: "amd64"}, nil
	case "arm64":
		return Target{GOARCH: "arm64"}, nil
	}
	return Target{}, fmt.Errorf("no Go target for Debian architecture %q", debArch)
}

// ModulePath is the Go module whose cmd/cmcsync is cross-compiled.
const ModulePath = "github.com/cmcsync/cmcsync"

// FindModuleRoot walks up from dir to the folder whose go.mod declares
// ModulePath.
func FindModuleRoot(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if f := strings.Fields(l); len(f) == 2 && f[0] == "module" && f[1] == ModulePath {
					return d, nil
				}
			}
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod for %s above %s (run from the cmcsync checkout or pass its folder)", ModulePath, dir)
		}
		d = parent
	}
}

// CrossCompile builds cmd/cmcsync of the module at src for t as a static
// binary (CGO_ENABLED=0, -trimpath) at out.
func CrossCompile(ctx context.Context, src string, t Target, out string) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("cross-compile cmcsync: the go tool is not in PATH (install Go 1.26 or add it to PATH): %w", err)
	}
	cmd := exec.CommandContext(ctx, gobin, "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./cmd/cmcsync")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+t.GOARCH)
	if t.GOARM != "" {
		cmd.Env = append(cmd.Env, "GOARM="+t.GOARM)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("cross-compile cmcsync for %s: %w\n%s", t.GOARCH, err, b)
	}
	return nil
}
