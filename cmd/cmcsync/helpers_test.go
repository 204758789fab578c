package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// The tests' fixtures shared by every file: running the CLI, the chip
// spec of the 8 MiB test pairs, and the image files of a pair.

// runCLI runs the command line args as main does and returns what it
// wrote to standard output and standard error.
func runCLI(args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// runCmd is runCLI of the subcommand cmd with args.
func runCmd(cmd string, args ...string) (stdout, stderr string, err error) {
	return runCLI(append([]string{cmd}, args...)...)
}

// statusOf is the exit status main gives err.
func statusOf(err error) int { return exitCode(err) }

// The layout of the 8 MiB chips of the tests (inspect prints it): image
// 0+512K, information region 0x80000+2M, store 0x280000 to the end, its
// two superblock copies in its first two 4 KiB blocks.
const (
	dmgSize      = 8 << 20
	dmgSuper0    = 0x280008
	dmgSuper1    = 0x281008
	testChipSpec = "sim:part=mx66l1g45g,size=8M,file="
)

// pairArgs are the chip flags of the pair of 8 MiB image files a.img
// (primary) and b.img (backup) in dir.
func pairArgs(dir string) []string {
	return []string{"--primary", testChipSpec + filepath.Join(dir, "a.img"), "--backup", testChipSpec + filepath.Join(dir, "b.img")}
}

// writeFiles writes the files of a pair (by name) into dir.
func writeFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for n, b := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), b, 0o644))
	}
}

// loadFiles reads the files names of dir, by name (writeFiles' inverse).
func loadFiles(t *testing.T, dir string, names ...string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	for _, n := range names {
		m[n] = readFile(t, filepath.Join(dir, n))
	}
	return m
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return b
}
