package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/qemu/assets"
	"github.com/cmcsync/cmcsync/qemu/vm"
)

// fakeQEMU puts a qemu-system-arm shell script with body in front of PATH,
// and a fake built image in vmImage's place: vm boot runs the script as
// it would run QEMU, with QEMU's arguments; no Debian asset is fetched and
// nothing is built. The script's own $$ is QEMU's pid.
func fakeQEMU(t *testing.T, body string) {
	t.Helper()
	bin := t.TempDir()
	script := "#!/bin/sh\n" +
		"# the flash images, from -drive file=PATH,format=raw,if=mtd\n" +
		"IMGS=\n" +
		"for a in \"$@\"; do case \"$a\" in file=*) f=${a#file=}; IMGS=\"$IMGS ${f%%,*}\";; esac; done\n" +
		body + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(bin, "qemu-system-arm"), []byte(script), 0o755))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	cache := t.TempDir()
	for _, n := range []string{"vmlinuz", "initrd"} {
		require.NoError(t, os.WriteFile(filepath.Join(cache, n), []byte(n), 0o644))
	}
	img := &vm.Image{Manifest: &assets.Manifest{Variant: "arm", Kernel: "vmlinuz", Dir: cache}, Initrd: filepath.Join(cache, "initrd")}
	prev := vmImage
	vmImage = func(context.Context, *vmCommon, io.Writer) (*vm.Image, error) { return img, nil }
	t.Cleanup(func() { vmImage = prev })
}

// TestVMBootQEMUFails: QEMU that fails to start or exits with an error:
// the error shows what it printed, the flash images and folders the boot
// created are gone (an image the guest wrote to stays), an image that was
// there is untouched.
func TestVMBootQEMUFails(t *testing.T) {
	const complaint = `echo "qemu-system-arm: -drive file=x,format=raw,if=mtd: Failed to get \"write\" lock" >&2; echo "Is another process using the image [x]?" >&2`
	for _, tc := range []struct {
		name     string
		script   string
		existing bool     // primary.img there before, not erased
		code     int      // exit status
		want     []string // in the error
		left     []string // files of the folder after ("" : the folder is gone)
	}{
		{name: "exits at once", script: complaint + "; exit 1", code: 1,
			want: []string{"vm boot: QEMU failed (exit status 1)", "its last lines on standard error:\n  qemu-system-arm: -drive file=x", "Is another process using the image [x]?"}},
		{name: "exits at once beside an image that was there", script: complaint + "; exit 1", existing: true, code: 1,
			want: []string{"Failed to get \"write\" lock"}, left: []string{"primary.img"}},
		{name: "silent", script: "exit 3", code: 1, want: []string{"exit status 3", "it printed nothing on standard error"}},
		{name: "killed after the guest wrote its flash", script: `for f in $IMGS; do printf 'x' | dd of="$f" conv=notrunc 2>/dev/null; done; kill -9 $$`, code: 1,
			want: []string{"signal: killed"}, left: []string{"backup.img", "primary.img"}},
		{name: "quits cleanly", script: "exit 0", left: []string{"backup.img", "primary.img"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fakeQEMU(t, tc.script)
			dir := filepath.Join(t.TempDir(), "new", "state")
			if tc.existing {
				require.NoError(t, os.MkdirAll(dir, 0o755))
				b := bytes.Repeat([]byte{0xFF}, vm.FlashImageSize)
				b[0] = 0
				require.NoError(t, os.WriteFile(filepath.Join(dir, "primary.img"), b, 0o644))
			}
			_, errOut, err := runCLI("vm", "boot", "--dir", dir)
			require.Equal(t, tc.code, statusOf(err), "%v", err)
			for _, w := range tc.want {
				require.ErrorContains(t, err, w)
			}
			require.Contains(t, errOut, "boot: starting QEMU")
			if tc.left == nil {
				_, serr := os.Stat(filepath.Dir(dir))
				require.ErrorIs(t, serr, os.ErrNotExist, "the folders the boot made are removed")
				return
			}
			ents, err := os.ReadDir(dir)
			require.NoError(t, err)
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			require.Equal(t, tc.left, names)
			if tc.existing {
				b := readFile(t, filepath.Join(dir, "primary.img"))
				require.Equal(t, byte(0), b[0], "the image that was there is untouched")
			}
		})
	}
}

// TestVMBootStopKillsQEMU: a vm boot stopped (its context ends, as on a
// signal) kills QEMU and waits for it: no QEMU outlives the command.
func TestVMBootStopKillsQEMU(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	fakeQEMU(t, "echo $$ > "+pidFile+".tmp; mv "+pidFile+".tmp "+pidFile+"; exec sleep 60")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for {
			if _, err := os.Stat(pidFile); err == nil {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	var out, errOut bytes.Buffer
	start := time.Now()
	err := run(ctx, []string{"vm", "boot", "--dir", t.TempDir()}, &out, &errOut)
	require.ErrorIs(t, err, context.Canceled)
	require.Less(t, time.Since(start), 30*time.Second)
	b, rerr := os.ReadFile(pidFile)
	require.NoError(t, rerr)
	pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, perr)
	require.True(t, errors.Is(syscall.Kill(pid, 0), syscall.ESRCH), "QEMU (pid %d) still runs", pid)
}
