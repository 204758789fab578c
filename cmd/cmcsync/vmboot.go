package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cmcsync/cmcsync/qemu/vm"
)

func runVMBoot(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("vm boot", stderr,
		"usage: cmcsync vm boot [--variant arm|x86] [--dir DIR] [--cache DIR] [--kvm]",
		"\nBoots the emulated CMC with an interactive serial console (Ctrl-A X quits QEMU;",
		"in the guest, reboot -f ends it). On arm the guest has cmcsync and the chips as /dev/mtd5",
		"and /dev/mtd6; selftest only on /dev/mtd6, the scratch second chip. When QEMU fails",
		"to start or exits with an error, the error shows the last lines QEMU printed, and",
		"the flash images and folder this boot created are removed while still erased.\n")
	var c vmCommon
	c.add(fs)
	dir := fs.String("dir", "", "folder for primary.img and backup.img (created erased if missing; default: the cache's state folder)")
	kvm := fs.Bool("kvm", false, "use KVM (x86 variant only; default TCG)")
	if done, err := parseFlags(fs, args); done {
		return err
	}
	img, err := vmImage(ctx, &c, stderr)
	if err != nil {
		return err
	}
	cfg := vm.Config{Manifest: img.Manifest, Initrd: img.Initrd, KVM: *kvm, Interactive: true}
	// What this boot makes (folders, then image files) is removed again
	// when it fails, an image file only while the guest has written
	// nothing to it.
	var made []string
	defer func() {
		if err != nil {
			removeMadeForBoot(made)
		}
	}()
	if img.Manifest.Variant == "arm" {
		d := *dir
		if d == "" {
			d = filepath.Join(img.Manifest.Dir, "state")
		}
		dirs, err := mkdirAllNew(d, 0o755)
		if err != nil {
			return fmt.Errorf("vm boot: --dir: %w", err)
		}
		made = append(made, dirs...)
		for _, n := range []string{"primary.img", "backup.img"} {
			p := filepath.Join(d, n)
			if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
				made = append(made, p) // listed first: a half-made file goes too
				if err := vm.CreateFlashImage(p); err != nil {
					return fmt.Errorf("vm boot: %w", err)
				}
			} else if err != nil {
				return fmt.Errorf("vm boot: flash image: %w", err)
			}
			cfg.Flash = append(cfg.Flash, p)
		}
		fmt.Fprintf(stderr, "boot: flash images %s\n", strings.Join(cfg.Flash, ", "))
	}
	fmt.Fprintln(stderr, "boot: starting QEMU (Ctrl-A X quits; in the guest, `reboot -f` ends it)")
	tail := &tailWriter{max: 8}
	cfg.Stderr = io.MultiWriter(stderr, tail)
	m, err := vm.Start(ctx, cfg)
	if err != nil {
		return fmt.Errorf("vm boot: %w", err)
	}
	select {
	case <-m.Done():
	case <-ctx.Done():
		// Stopped (a signal): QEMU does not outlive the command.
		return errors.Join(fmt.Errorf("vm boot: %w", ctx.Err()), m.Kill())
	}
	if err := m.Wait(time.Minute); err != nil { // QEMU has exited: its status at once
		return fmt.Errorf("vm boot: QEMU failed (%w) after %v; %s", err, time.Since(m.Started).Round(time.Millisecond), tail.said())
	}
	return nil
}

// removeMadeForBoot removes what vm boot made, in reverse order: an image
// file only while it is still erased (the guest wrote nothing there), a
// folder only when empty.
func removeMadeForBoot(made []string) {
	for i := len(made) - 1; i >= 0; i-- {
		p := made[i]
		if st, err := os.Stat(p); err == nil && !st.IsDir() && !erasedFile(p) {
			continue
		}
		os.Remove(p)
	}
}

// erasedFile reports whether the file at path holds only 0xFF bytes (a
// missing or unreadable file is not erased).
func erasedFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for {
		n, err := f.Read(buf)
		for _, b := range buf[:n] {
			if b != 0xFF {
				return false
			}
		}
		if err == io.EOF {
			return true
		}
		if err != nil {
			return false
		}
	}
}

// tailWriter keeps the last max lines written to it (QEMU's standard
// error, for the error that says why it stopped).
type tailWriter struct {
	mu      sync.Mutex
	max     int
	lines   []string
	partial []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.add(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	if len(w.partial) > 4096 { // a line without end: keep its end
		w.partial = w.partial[len(w.partial)-4096:]
	}
	return len(p), nil
}

func (w *tailWriter) add(line string) {
	line = strings.TrimRight(line, "\r")
	if strings.TrimSpace(line) == "" {
		return
	}
	w.lines = append(w.lines, line)
	if len(w.lines) > w.max {
		w.lines = w.lines[len(w.lines)-w.max:]
	}
}

// said describes the lines kept, for an error message.
func (w *tailWriter) said() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	lines := w.lines
	if len(bytes.TrimSpace(w.partial)) > 0 {
		lines = append(slices.Clone(lines), string(w.partial))
	}
	if len(lines) == 0 {
		return "it printed nothing on standard error"
	}
	return "its last lines on standard error:\n  " + strings.Join(lines, "\n  ")
}
