package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// openPTY returns the two ends of a new pseudo-terminal: what a command
// writes to tty is on a terminal.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	require.NoError(t, err, "Linux's pseudo-terminal multiplexer")
	t.Cleanup(func() { m.Close() })
	require.NoError(t, unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0))
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	require.NoError(t, err)
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return m, s
}

// TestInfoGetRefusesTerminal: info get without --out or --json on a
// terminal refuses (exit 2) before the chips open, saying how to get the
// payload; it wrote hundreds of KiB of binary to the terminal. To a file
// or a pipe it writes the payload as before.
func TestInfoGetRefusesTerminal(t *testing.T) {
	master, tty := openPTY(t)
	go io.Copy(io.Discard, master) // what reaches the terminal, read as a terminal would
	dir, chips := pairFiles(t)
	before := loadFiles(t, dir, "a.img", "b.img")
	var errOut bytes.Buffer
	err := run(context.Background(), append([]string{"info", "get", "power"}, chips...), tty, &errOut)
	code, msg := exitOf(t, err)
	require.Equal(t, 2, code, msg)
	require.Contains(t, msg, "info get: the payload is binary and standard output is a terminal: give --out FILE, send it to a file or a pipe (> power.bin, | xxd | less), or --json to describe the record")
	require.Equal(t, before, loadFiles(t, dir, "a.img", "b.img"))

	// --json and --out on a terminal, and the payload to a file, as before.
	require.NoError(t, run(context.Background(), append([]string{"info", "get", "power", "--json"}, chips...), tty, &errOut))
	out := filepath.Join(t.TempDir(), "p.bin")
	require.NoError(t, run(context.Background(), append([]string{"info", "get", "power", "--out", out}, chips...), tty, &errOut))
	f, err := os.Create(filepath.Join(t.TempDir(), "stdout"))
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, run(context.Background(), append([]string{"info", "get", "power"}, chips...), f, &errOut))
	got, err := os.ReadFile(f.Name())
	require.NoError(t, err)
	require.Equal(t, readFile(t, out), got)
}
