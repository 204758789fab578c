package sim

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSmoke(t *testing.T) {
	p, err := LookupPart("w25q256jv")
	require.NoError(t, err)
	f, err := New(Options{Part: p, Size: 1 << 20})
	require.NoError(t, err)
	_, err = f.WriteAt([]byte{0x0F, 0xF0}, 10)
	require.NoError(t, err)
	s := f.Snapshot()
	_, err = f.WriteAt([]byte{0xF0}, 10)
	require.NoError(t, err)
	buf := make([]byte, 3)
	_, err = f.ReadAt(buf, 10)
	require.NoError(t, err)
	require.Equal(t, []byte{0, 0xF0, 0xFF}, buf)
	f.Restore(s)
	_, err = f.ReadAt(buf, 10)
	require.NoError(t, err)
	require.Equal(t, []byte{0x0F, 0xF0, 0xFF}, buf)
	require.NoError(t, f.Erase(0, 4096))
	_, err = f.ReadAt(buf, 10)
	require.NoError(t, err)
	require.Equal(t, []byte{0xFF, 0xFF, 0xFF}, buf)
}
