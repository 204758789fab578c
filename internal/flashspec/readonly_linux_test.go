package flashspec_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/internal/flashspec"
)

// TestOpenReadOnlyOpensMTDReadOnly: OpenReadOnly opens an mtd: spec's
// device with O_RDONLY, Open with O_RDWR. A folder tells them apart even
// as root: open(2) of a folder for writing fails (EISDIR), for reading it
// succeeds and the device's checks then refuse it (not an MTD character
// device). The read-only Device itself is tested with the fake kernel in
// hal/mtd (TestOpenReadOnly).
func TestOpenReadOnlyOpensMTDReadOnly(t *testing.T) {
	dir := t.TempDir()
	s, err := flashspec.Parse("mtd:" + dir)
	require.NoError(t, err)

	_, err = flashspec.Open(s, nil)
	require.ErrorContains(t, err, "is a directory", "Open opens read-write")

	_, err = flashspec.OpenReadOnly(s, nil)
	require.ErrorIs(t, err, hal.ErrUnsupported)
	require.ErrorContains(t, err, "not an MTD character device", "OpenReadOnly opened the folder: O_RDONLY")
	require.NotContains(t, err.Error(), "is a directory")
}
