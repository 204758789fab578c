package web

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A file or folder owned by another user is refused even with a private
// mode. Tests cannot chown without root, so checkPrivate is given another
// user id instead.
func TestCheckPrivateOwner(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, TokenFile)
	require.NoError(t, os.WriteFile(path, []byte("x"), 0o600))
	for _, p := range []string{path, dir} {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		owner, known := fileOwner(fi)
		require.True(t, known, "Linux tells file owners")
		require.NoError(t, checkPrivate(ErrUnsafeTokenFile, p, fi, 0, owner, "chmod 600"))
		err = checkPrivate(ErrUnsafeTokenFile, p, fi, 0, owner+1, "chmod 600")
		require.ErrorIs(t, err, ErrUnsafeTokenFile)
		require.ErrorContains(t, err, "not to the user running the server")
	}
}
