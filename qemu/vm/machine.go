package vm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cmcsync/cmcsync/qemu/assets"
	"github.com/cmcsync/cmcsync/qemu/initramfs"
)

// FlashImageSize is the size of each emulated SPI NOR chip on fuji-bmc
// (QEMU models an MX66L1G45G: 128 MiB); its -drive file must be exactly
// this large.
const FlashImageSize = 128 << 20

// Config describes one boot.
type Config struct {
	// Manifest gives the kernel (and DTB) and says which variant it is.
	Manifest *assets.Manifest
	// Initrd is the CMC image built by package initramfs.
	Initrd string
	// Flash are the image files of the SPI NOR chips, in chip order (ARM
	// only: primary then backup). Each must be FlashImageSize bytes.
	Flash []string
	// Disks are raw disk image files attached as virtio disks (x86 only:
	// /dev/vda, /dev/vdb, ... in order).
	Disks []string
	// KVM asks for hardware acceleration (x86 only; TCG otherwise).
	KVM bool
	// Append is added to the kernel command line.
	Append string
	// Memory is the guest RAM for the x86 variant (default "512M").
	Memory string
	// QMP, if set, is the path of a QMP unix socket QEMU listens on
	// (Machine.Freeze uses it).
	QMP string
	// Log receives a copy of the console output (nil: none).
	Log io.Writer
	// DTB, if set, replaces the manifest's device tree (arm only): a
	// scenario's flash partitions, say.
	DTB string
	// HostForward lists QEMU user-networking port forwards, each
	// "tcp:127.0.0.1:HOSTPORT-:GUESTPORT" (bind the host side to
	// 127.0.0.1); with any, the guest gets one user-mode NIC (10.0.2.15).
	HostForward []string
	// Interactive connects the guest's console to this process's terminal
	// (stdin/stdout) instead of a Console; Ctrl-A X quits QEMU.
	Interactive bool
	// Stderr receives QEMU's own standard error (nil: this process's),
	// kept apart from the guest's console (Console, Log): QEMU's warnings
	// are not the guest's output. Machine.Stderr keeps its last lines too,
	// so that a caller can tell what QEMU said when it fails.
	Stderr io.Writer
}

// Command returns the QEMU program and arguments for c.
func (c Config) Command() (string, []string, error) {
	m := c.Manifest
	if m == nil {
		return "", nil, errors.New("no asset manifest")
	}
	if c.Initrd == "" {
		return "", nil, errors.New("no initramfs given")
	}
	serial := []string{"-display", "none", "-monitor", "none", "-serial", "stdio"}
	if c.Interactive {
		serial = []string{"-nographic"}
	}
	var prog string
	var args []string
	switch m.Variant {
	case "arm":
		if c.KVM {
			return "", nil, errors.New("KVM cannot run the arm variant on this host (use TCG)")
		}
		prog = "qemu-system-arm"
		args = []string{"-M", "fuji-bmc", "-kernel", m.Path(m.Kernel), "-initrd", c.Initrd,
			"-append", strings.TrimSpace("console=ttyS0,9600n8 vmalloc=768M " + c.Append)}
		if c.DTB != "" {
			args = append(args, "-dtb", c.DTB)
		} else if m.DTB != "" {
			args = append(args, "-dtb", m.Path(m.DTB))
		}
		for _, f := range c.Flash {
			args = append(args, "-drive", "file="+f+",format=raw,if=mtd")
		}
		if len(c.Disks) > 0 {
			return "", nil, errors.New("the arm variant takes flash images, not disks")
		}
	case "x86":
		prog = "qemu-system-x86_64"
		mem := c.Memory
		if mem == "" {
			mem = "512M"
		}
		args = []string{"-m", mem, "-kernel", m.Path(m.Kernel), "-initrd", c.Initrd,
			"-append", strings.TrimSpace("console=ttyS0 " + c.Append)}
		if c.KVM {
			args = append(args, "-accel", "kvm", "-cpu", "host")
		} else {
			args = append(args, "-accel", "tcg")
		}
		if len(c.Flash) > 0 {
			return "", nil, errors.New("the x86 variant has no SPI flash chips (use nandsim or mtdram in the guest)")
		}
		for _, d := range c.Disks {
			args = append(args, "-drive", "file="+d+",format=raw,if=virtio")
		}
	default:
		return "", nil, fmt.Errorf("unknown variant %q", m.Variant)
	}
	if len(c.HostForward) > 0 {
		nic := "user"
		for _, f := range c.HostForward {
			nic += ",hostfwd=" + f
		}
		args = append(args, "-nic", nic)
	}
	args = append(args, serial...)
	if c.QMP != "" {
		args = append(args, "-qmp", "unix:"+c.QMP+",server=on,wait=off")
	}
	args = append(args, "-no-reboot")
	return prog, args, nil
}

// Machine is a running QEMU guest.
type Machine struct {
	// Console is the guest's serial console (nil when Interactive).
	Console *Console
	// Started is when QEMU was started.
	Started time.Time

	cmd     *exec.Cmd
	qmp     string
	done    chan struct{}
	waitErr error
	stderr  *tailBuffer // the end of QEMU's standard error
}

// stderrTail is how much of QEMU's standard error Machine.Stderr keeps.
const stderrTail = 4096

// Stderr returns the end (at most 4 KiB) of what QEMU wrote to its
// standard error so far (empty when Interactive).
func (m *Machine) Stderr() string {
	if m.stderr == nil {
		return ""
	}
	return m.stderr.String()
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// ErrNoQEMU is wrapped by Start when the QEMU program is not installed.
var ErrNoQEMU = errors.New("qemu not installed")

// Start boots QEMU as configured. The machine is killed when ctx ends.
func Start(ctx context.Context, c Config) (*Machine, error) {
	prog, args, err := c.Command()
	if err != nil {
		return nil, err
	}
	// A booting initramfs is in use: renew its time so that a concurrent
	// build sharing the cache does not take it for a stale one (vm.Build
	// removes builds untouched for staleAge).
	now := time.Now()
	_ = os.Chtimes(c.Initrd, now, now)
	path, err := exec.LookPath(prog)
	if err != nil {
		pkg := "qemu-system-arm"
		if prog == "qemu-system-x86_64" {
			pkg = "qemu-system-x86"
		}
		return nil, fmt.Errorf("%w: %s not found (install it: apt-get install -y %s)", ErrNoQEMU, prog, pkg)
	}
	for _, f := range c.Flash {
		st, err := os.Stat(f)
		if err != nil {
			return nil, fmt.Errorf("flash image: %w", err)
		}
		if st.Size() != FlashImageSize {
			return nil, fmt.Errorf("flash image %s is %d bytes; QEMU's fuji-bmc chips need exactly %d", f, st.Size(), FlashImageSize)
		}
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGKILL) }
	m := &Machine{cmd: cmd, done: make(chan struct{}), qmp: c.QMP}
	var stdin io.WriteCloser
	var stdout, stdoutW *os.File
	if c.Interactive {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		if c.Stderr != nil {
			cmd.Stderr = c.Stderr
		}
	} else {
		if stdin, err = cmd.StdinPipe(); err != nil {
			return nil, err
		}
		// An os.Pipe, not cmd.StdoutPipe: Wait (run as soon as QEMU
		// exits) closes a StdoutPipe's read end, and the console would
		// lose what QEMU printed just before it exited. This read end
		// is the console's: it reads to EOF and closes it.
		if stdout, stdoutW, err = os.Pipe(); err != nil {
			return nil, fmt.Errorf("console pipe: %w", err)
		}
		cmd.Stdout = stdoutW
		// QEMU's own complaints are not the guest's console: they go to
		// Config.Stderr (or this process's), never into the console log.
		stderr := c.Stderr
		if stderr == nil {
			stderr = os.Stderr
		}
		m.stderr = &tailBuffer{max: stderrTail}
		cmd.Stderr = io.MultiWriter(stderr, m.stderr)
	}
	m.Started = time.Now()
	err = cmd.Start()
	if stdoutW != nil {
		_ = stdoutW.Close() // QEMU holds its own copy
	}
	if err != nil {
		if stdout != nil {
			_ = stdout.Close()
		}
		return nil, fmt.Errorf("start %s: %w", prog, err)
	}
	if !c.Interactive {
		m.Console = NewConsole(stdout, stdin, c.Log)
	}
	go func() {
		m.waitErr = cmd.Wait()
		close(m.done)
	}()
	return m, nil
}

// Pid returns QEMU's process id.
func (m *Machine) Pid() int { return m.cmd.Process.Pid }

// Done is closed when QEMU has exited.
func (m *Machine) Done() <-chan struct{} { return m.done }

// Wait waits for QEMU to exit, at most timeout; it returns QEMU's exit error
// (nil for a clean exit) or ErrTimeout.
func (m *Machine) Wait(timeout time.Duration) error {
	select {
	case <-m.done:
		return m.waitErr
	case <-time.After(timeout):
		return fmt.Errorf("%w: qemu did not exit within %v", ErrTimeout, timeout)
	}
}

// Kill cuts the guest's power: SIGKILL to QEMU, no flush, no shutdown. It
// waits for the process to be gone.
func (m *Machine) Kill() error {
	select {
	case <-m.done:
		return nil
	default:
	}
	if err := m.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill qemu: %w", err)
	}
	<-m.done
	return nil
}

// Reboot ends the guest cleanly with `reboot -f` (QEMU exits because of
// -no-reboot) and waits for QEMU to exit; it kills QEMU if it does not.
func (m *Machine) Reboot(timeout time.Duration) error {
	if err := m.Console.Send("reboot -f\n"); err != nil {
		return errors.Join(err, m.Kill())
	}
	if err := m.Wait(timeout); err != nil {
		return errors.Join(err, m.Kill())
	}
	return nil
}

var (
	reReady  = regexp.MustCompile(regexp.QuoteMeta(initramfs.MarkerReady) + ` uptime=([0-9.]+)\n`)
	reFailed = regexp.MustCompile(regexp.QuoteMeta(initramfs.MarkerInsmodFailed) + `(\S+)@@`)
)

// WaitReady waits until /init has loaded the modules and started the shell,
// and returns the guest's uptime at that moment. A module that failed to
// load is an error.
func (m *Machine) WaitReady(ctx context.Context, timeout time.Duration) (time.Duration, error) {
	got, err := m.Console.Expect(ctx, reReady, timeout)
	if err != nil {
		if errors.Is(err, ErrExited) {
			// QEMU quit: its standard error is copied in full once Wait
			// has returned.
			select {
			case <-m.done:
			case <-time.After(time.Second):
			}
		}
		if e := strings.TrimSpace(m.Stderr()); e != "" {
			// QEMU's own words (kept out of the console) say why it quit.
			return 0, fmt.Errorf("boot: %w; qemu's standard error:\n%s", err, e)
		}
		return 0, fmt.Errorf("boot: %w", err)
	}
	if f := reFailed.FindStringSubmatch(m.Console.Output()); f != nil {
		return 0, fmt.Errorf("boot: loading kernel module %s failed; console:\n%s", f[1], m.Console.Tail(3000))
	}
	sec, _ := strconv.ParseFloat(got[1], 64)
	return time.Duration(sec * float64(time.Second)), nil
}

// Run types cmd into the guest's shell and waits for it; see Console.Run.
func (m *Machine) Run(ctx context.Context, cmd string, timeout time.Duration) (Result, error) {
	return m.Console.Run(ctx, cmd, timeout)
}
