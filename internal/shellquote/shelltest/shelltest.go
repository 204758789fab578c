// Package shelltest reads a command line back the way a user's shell does:
// it runs it through sh, so a test checks that a printed command gives the
// program the words it was made from.
package shelltest

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Words returns the words sh makes of line: sh -c runs printf '%s\0'
// followed by line, and the output is split at the NUL bytes (a word may
// hold a newline).
func Words(t testing.TB, line string) []string {
	t.Helper()
	sh, err := exec.LookPath("sh")
	require.NoError(t, err, "sh reads the command lines back")
	var out, errOut bytes.Buffer
	cmd := exec.Command(sh, "-c", `printf '%s\0' `+line)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Run(), "sh -c %q: %s", line, errOut.String())
	s := out.String()
	require.True(t, strings.HasSuffix(s, "\x00"), "sh -c %q printed %q", line, s)
	return strings.Split(strings.TrimSuffix(s, "\x00"), "\x00")
}
