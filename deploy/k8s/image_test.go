package k8s_test

import (
	"debug/elf"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImage: the Dockerfile starts from scratch (nothing to pull) and
// copies the one binary the build context holds; that binary, built as the
// Dockerfile says, is static, so it runs with no libc in the image.
func TestImage(t *testing.T) {
	img := readDockerfile(t)
	require.Equal(t, []string{"scratch"}, img.from)
	require.Equal(t, []string{"/cmcsync"}, img.entrypoint)
	require.NotEmpty(t, img.user)
	require.NotEqual(t, "0", strings.Split(img.user, ":")[0], "not root")

	ignore, err := os.ReadFile(".dockerignore")
	require.NoError(t, err)
	require.Equal(t, []string{"*", "!cmcsync"}, rules(string(ignore)), "the context is the binary alone")
	gitignore, err := os.ReadFile(".gitignore")
	require.NoError(t, err)
	require.Contains(t, rules(string(gitignore)), "/cmcsync", "the built binary is not committed")

	require.Empty(t, dynamicParts(t, cmcsyncBinary(t)))
}

// dynamicParts lists what makes an ELF binary need a loader or shared
// libraries: its interpreter and the libraries it names.
func dynamicParts(t *testing.T, path string) []string {
	t.Helper()
	f, err := elf.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var parts []string
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			parts = append(parts, "interpreter")
		}
	}
	libs, err := f.ImportedLibraries()
	require.NoError(t, err)
	return append(parts, libs...)
}

// TestDynamicPartsFindsALoader: the static check fails on a dynamic
// binary (Debian's /bin/sh).
func TestDynamicPartsFindsALoader(t *testing.T) {
	require.Contains(t, dynamicParts(t, "/bin/sh"), "interpreter")
}

// rules returns an ignore file's lines without comments and blanks.
func rules(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}
