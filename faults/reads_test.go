package faults

import (
	"bytes"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
)

// readsDiffer reads n bytes at offset 0 of f up to tries times and reports
// whether a read differed: from want, or (want nil) from a second read
// made right after it. It returns the last read.
func readsDiffer(t *testing.T, f io.ReaderAt, n int, want []byte, tries int) (bool, []byte) {
	t.Helper()
	got, again := make([]byte, n), make([]byte, n)
	for range tries {
		_, err := f.ReadAt(got, 0)
		require.NoError(t, err)
		other := want
		if other == nil {
			_, err = f.ReadAt(again, 0)
			require.NoError(t, err)
			other = again
		}
		if !bytes.Equal(got, other) {
			return true, got
		}
	}
	return false, got
}

// requireEraseSettles erases the first 4 KiB block of f and requires its
// first n bytes to read erased.
func requireEraseSettles(t *testing.T, f hal.Flash, n int) {
	t.Helper()
	require.NoError(t, f.Erase(0, 4096))
	got := make([]byte, n)
	_, err := f.ReadAt(got, 0)
	require.NoError(t, err)
	require.Equal(t, bytes.Repeat([]byte{0xff}, n), got, "an erase settles the cells")
}
