package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEraseModelMismatch: a pair laid out on 4 KiB erase blocks opened
// with a spec of other erase blocks (erase=64k, a NAND part; their .wear
// files removed, which would say so first) is bad input, exit 2 as a
// size contradicting the region header is, not a failure (exit 1): the
// error names the erase size the region was laid out for and how to open
// it, inspect says the same, and nothing is written or created.
func TestEraseModelMismatch(t *testing.T) {
	for name, spec := range map[string]string{
		"64 KiB erase model": strings.Replace(testChipSpec, "file=", "erase=64k,file=", 1),
		"NAND part":          "sim:part=mt29f2g01,size=8M,file=",
	} {
		t.Run(name, func(t *testing.T) {
			dir, _ := pairFiles(t)
			for _, n := range []string{"a.img.wear", "b.img.wear"} {
				require.NoError(t, os.Remove(filepath.Join(dir, n)))
			}
			before := readFiles(t, dir)
			chips := []string{"--primary", spec + filepath.Join(dir, "a.img"), "--backup", spec + filepath.Join(dir, "b.img")}
			for _, args := range [][]string{
				append([]string{"sync"}, chips...),
				append([]string{"config", "get"}, chips...),
				{"inspect", "--flash", chips[3]},
			} {
				_, _, err := runCLI(args...)
				require.Equal(t, exitUsage, statusOf(err), "%s: %v", args[0], err)
				require.ErrorContains(t, err, "was laid out for 4KiB erase blocks")
				require.ErrorContains(t, err, "erase model it was made with")
				require.Equal(t, before, readFiles(t, dir), "%s wrote", args[0])
				_, err = os.Stat(filepath.Join(dir, "a.img.wear"))
				require.ErrorIs(t, err, os.ErrNotExist, "%s created a wear file", args[0])
			}
		})
	}
}
