package assets

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFileSHA256(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ content, want string }{
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	} {
		path := filepath.Join(dir, "f")
		require.NoError(t, os.WriteFile(path, []byte(tc.content), 0o644))
		got, err := FileSHA256(path)
		require.NoError(t, err)
		require.Equal(t, tc.want, got, "%q", tc.content)
	}
	_, err := FileSHA256(filepath.Join(dir, "missing"))
	require.ErrorIs(t, err, os.ErrNotExist)
}
