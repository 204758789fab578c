package vm

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/qemu/assets"
)

// TestQEMUStderrKeptApart: what QEMU writes to its standard error goes to
// Config.Stderr and Machine.Stderr, never into the guest's console
// (Console, Log); a boot that fails quotes it. (QEMU stands in as a
// script on PATH that writes one line to each.) Before, QEMU's standard
// error was the console's pipe too.
func TestQEMUStderrKeptApart(t *testing.T) {
	bin := t.TempDir()
	script := "#!/bin/sh\necho 'guest: hello'\necho 'qemu-system-x86_64: warning: host lacks feature' >&2\nexit 1\n"
	require.NoError(t, os.WriteFile(filepath.Join(bin, "qemu-system-x86_64"), []byte(script), 0o755))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	var log, stderr bytes.Buffer
	m, err := Start(context.Background(), Config{Manifest: &assets.Manifest{Variant: "x86", Dir: bin, Kernel: "k"}, Initrd: filepath.Join(bin, "i"), Log: &log, Stderr: &stderr})
	require.NoError(t, err)
	_, err = m.Console.Expect(context.Background(), regexp.MustCompile(`hello\n`), 10*time.Second)
	require.NoError(t, err)
	_, err = m.WaitReady(context.Background(), 10*time.Second)
	require.ErrorIs(t, err, ErrExited)
	require.ErrorContains(t, err, "qemu's standard error:\nqemu-system-x86_64: warning: host lacks feature")
	require.Error(t, m.Wait(10*time.Second), "exit status 1")

	require.Equal(t, "qemu-system-x86_64: warning: host lacks feature\n", stderr.String())
	require.Equal(t, stderr.String(), m.Stderr())
	require.NotContains(t, m.Console.Output(), "warning")
	require.Equal(t, "guest: hello\n", log.String(), "the console log holds the guest's output only")
}

// TestTailBufferKeepsTheEnd: Machine.Stderr's buffer keeps the last max
// bytes.
func TestTailBufferKeepsTheEnd(t *testing.T) {
	for _, tc := range []struct {
		writes []string
		want   string
	}{
		{[]string{"abc"}, "abc"},
		{[]string{"abcd", "ef"}, "cdef"},
		{[]string{"abcdefgh"}, "efgh"},
		{nil, ""},
	} {
		b := &tailBuffer{max: 4}
		for _, w := range tc.writes {
			n, err := b.Write([]byte(w))
			require.NoError(t, err)
			require.Equal(t, len(w), n)
		}
		require.Equal(t, tc.want, b.String())
	}
}
