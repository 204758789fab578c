package vm

import (
	"context"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/qemu/assets"
)

// startShell runs the host's /bin/sh as a stand-in guest: a shell reading
// commands from the console input, like the guest's busybox shell.
func startShell(t *testing.T) (*Console, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command("/bin/sh")
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = cmd.Stdout
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { in.Close(); _ = cmd.Wait() })
	var log strings.Builder
	c := NewConsole(out, in, &log)
	return c, cmd
}

func TestConsoleRun(t *testing.T) {
	c, _ := startShell(t)
	ctx := context.Background()
	tests := []struct {
		cmd    string
		out    string
		status int
	}{
		{"echo hello; echo world", "hello\nworld\n", 0},
		{"printf 'a\\r\\nb'; false", "a\nb", 1},
		{"echo err >&2; exit_code() { return 7; }; exit_code", "err\n", 7},
		{"true", "", 0},
	}
	for _, tt := range tests {
		r, err := c.Run(ctx, tt.cmd, 10*time.Second)
		require.NoError(t, err, tt.cmd)
		require.Equal(t, tt.out, r.Output, tt.cmd)
		require.Equal(t, tt.status, r.Status, tt.cmd)
	}
}

func TestConsoleExpectTimeoutAndExit(t *testing.T) {
	c, _ := startShell(t)
	ctx := context.Background()
	require.NoError(t, c.Send("echo 'marker 42'\n"))
	got, err := c.Expect(ctx, regexp.MustCompile(`marker (\d+)`), 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, "42", got[1])
	// The cursor moved past the match: the same pattern does not match again.
	_, err = c.Expect(ctx, regexp.MustCompile(`marker (\d+)`), 50*time.Millisecond)
	require.ErrorIs(t, err, ErrTimeout)
	require.ErrorContains(t, err, "marker 42") // the tail is in the error

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = c.Expect(cctx, regexp.MustCompile(`never`), time.Minute)
	require.ErrorIs(t, err, context.Canceled)

	require.NoError(t, c.Send("exit 0\n"))
	_, err = c.Expect(ctx, regexp.MustCompile(`never`), time.Minute)
	require.ErrorIs(t, err, ErrExited)
	require.True(t, c.Closed())
}

func TestConsoleExpectLine(t *testing.T) {
	c, _ := startShell(t)
	ctx := context.Background()
	isN := func(n string) func(string) bool {
		return func(l string) bool { return l == "n="+n }
	}
	// A line counts once complete: "n=2" is printed without its newline
	// first.
	require.NoError(t, c.Send("echo n=1; echo n=22; printf n=2; sleep 0.2; echo; echo n=3\n"))
	got, err := c.ExpectLine(ctx, "n=2", isN("2"), 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, "n=2", got)
	// The cursor moved past the line: earlier lines are gone, later ones
	// are found.
	_, err = c.ExpectLine(ctx, "n=1", isN("1"), 50*time.Millisecond)
	require.ErrorIs(t, err, ErrTimeout)
	require.ErrorContains(t, err, "n=1 did not appear")
	got, err = c.ExpectLine(ctx, "n=3", isN("3"), 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, "n=3", got)

	require.NoError(t, c.Send("exit 0\n"))
	_, err = c.ExpectLine(ctx, "n=4", isN("4"), time.Minute)
	require.ErrorIs(t, err, ErrExited)
}

func TestConsoleWithoutInput(t *testing.T) {
	c := NewConsole(strings.NewReader("boot\n"), nil, io.Discard)
	require.Error(t, c.Send("x"))
	_, err := c.Run(context.Background(), "true", time.Second)
	require.Error(t, err)
}

func TestConfigCommand(t *testing.T) {
	arm := &assets.Manifest{Variant: "arm", Dir: "/c", Kernel: "k", DTB: "d.dtb"}
	x86 := &assets.Manifest{Variant: "x86", Dir: "/c", Kernel: "k"}
	tests := []struct {
		name    string
		cfg     Config
		prog    string
		want    []string
		wantErr string
	}{
		{"arm", Config{Manifest: arm, Initrd: "i", Flash: []string{"p.img", "b.img"}}, "qemu-system-arm",
			[]string{"-M fuji-bmc", "-append console=ttyS0,9600n8 vmalloc=768M", "-dtb /c/d.dtb",
				"-drive file=p.img,format=raw,if=mtd -drive file=b.img,format=raw,if=mtd", "-no-reboot", "-serial stdio"}, ""},
		{"x86 tcg", Config{Manifest: x86, Initrd: "i", Append: "quiet"}, "qemu-system-x86_64",
			[]string{"-accel tcg", "-append console=ttyS0 quiet", "-m 512M"}, ""},
		{"x86 kvm", Config{Manifest: x86, Initrd: "i", KVM: true}, "qemu-system-x86_64", []string{"-accel kvm -cpu host"}, ""},
		{"interactive", Config{Manifest: x86, Initrd: "i", Interactive: true}, "qemu-system-x86_64", []string{"-nographic"}, ""},
		{"arm kvm", Config{Manifest: arm, Initrd: "i", KVM: true}, "", nil, "KVM cannot run the arm variant"},
		{"x86 flash", Config{Manifest: x86, Initrd: "i", Flash: []string{"p"}}, "", nil, "no SPI flash"},
		{"no initrd", Config{Manifest: arm}, "", nil, "no initramfs"},
		{"no manifest", Config{}, "", nil, "no asset manifest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prog, args, err := tt.cfg.Command()
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.prog, prog)
			line := strings.Join(args, " ")
			for _, w := range tt.want {
				require.Contains(t, line, w)
			}
		})
	}
}

func TestStartChecksImages(t *testing.T) {
	dir := t.TempDir()
	p := dir + "/p.img"
	require.NoError(t, CreateFlashImage(p))
	require.NoError(t, exec.Command("truncate", "-s", "1M", dir+"/small.img").Run())
	arm := &assets.Manifest{Variant: "arm", Dir: dir, Kernel: "k"}
	_, err := Start(context.Background(), Config{Manifest: arm, Initrd: "i", Flash: []string{p, dir + "/small.img"}})
	if _, lookErr := exec.LookPath("qemu-system-arm"); lookErr != nil {
		require.ErrorIs(t, err, ErrNoQEMU)
		return
	}
	require.ErrorContains(t, err, "need exactly 134217728")
}

func TestConsoleFinishAfterExpect(t *testing.T) {
	c, _ := startShell(t)
	ctx := context.Background()
	id := c.Begin("echo one; echo two; echo three")
	got, err := c.Expect(ctx, regexp.MustCompile(`two\n`), 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, "two\n", got[0])
	r, err := c.Finish(ctx, id, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, "one\ntwo\nthree\n", r.Output)
}

func TestPlaceByContent(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := dir + "/" + name
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	a, err := placeByContent(write("t1", "same"), dir, "img-", ".gz")
	require.NoError(t, err)
	b, err := placeByContent(write("t2", "same"), dir, "img-", ".gz")
	require.NoError(t, err)
	c, err := placeByContent(write("t3", "other"), dir, "img-", ".gz")
	require.NoError(t, err)
	require.Equal(t, a, b)
	require.NotEqual(t, a, c)
	require.NoFileExists(t, dir+"/t2")
	old := time.Now().Add(-3 * time.Hour)
	require.NoError(t, os.Chtimes(c, old, old))
	removeStale(dir, "img-", a)
	require.FileExists(t, a)
	require.NoFileExists(t, c)

	// A build that reuses an old file renews it, so another build's
	// clean-up leaves it to the run that boots it.
	require.NoError(t, os.Chtimes(a, old, old))
	d, err := placeByContent(write("t4", "same"), dir, "img-", ".gz")
	require.NoError(t, err)
	require.Equal(t, a, d)
	removeStale(dir, "img-", c)
	require.FileExists(t, a)
}
