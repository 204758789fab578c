package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cmcsync/cmcsync/sync/info"

	"github.com/stretchr/testify/require"
)

// TestErasedRegionHeaderHintNamesCommands: where an erased information
// region header reaches the user in text (inspect's DAMAGED line, sync's
// anomaly line and error) the hint names the commands that format the region, and
// that sync --populate erases both chips, instead of sync/info's bare
// "format the region first". (TestDamagedInputs, "erased region header",
// covers the errors of info get, info put and sync.)
func TestErasedRegionHeaderHintNamesCommands(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.img"), filepath.Join(dir, "b.img")
	chips := []string{"--primary", testChipSpec + a, "--backup", testChipSpec + b}
	_, _, err := runCLI(append([]string{"sync", "--populate"}, chips...)...)
	require.NoError(t, err)
	img, err := os.ReadFile(a)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(a, erasedRegionHeader(img), 0o644))

	out, _, err := runCLI("inspect", "--flash", testChipSpec+a)
	require.Equal(t, 1, statusOf(err), "%v", err)
	require.Contains(t, out, "info: DAMAGED: information region at 0x80000")
	require.Contains(t, out, "no region header (erased): cmcsync failback formats chip A's information region")
	require.Contains(t, out, "cmcsync sync --populate, which formats, i.e. ERASES both chips")
	require.NotContains(t, out, "format the region first")

	out, _, err = runCLI(append([]string{"sync"}, chips...)...)
	require.Equal(t, 1, statusOf(err), "%v", err)
	require.Contains(t, out, "round: failover")
	require.Contains(t, out, "  anomaly: information region at 0x80000 on primary: corrupt information: no region header (erased): cmcsync failback formats chip A's information region")
	require.NotContains(t, err.Error(), "format the region first")
	// The event lines are the engine's record, as the API and --json
	// give it: not rewritten.
}

// TestRegionHint: the hint is chosen for an erased region header by its
// error's identity (info.ErrRegionErased), not for other damage to the
// header, which keeps its own error; the result still wraps sync/info's
// sentinels.
func TestRegionHint(t *testing.T) {
	erased := bytes.Repeat([]byte{0xFF}, info.RegionHeaderSize)
	_, errErased := info.DecodeRegionHeader(erased)
	require.ErrorIs(t, errErased, info.ErrRegionErased)
	magic := slices.Clone(erased)
	copy(magic, "NOTMAGIC")
	_, errMagic := info.DecodeRegionHeader(magic)
	require.ErrorIs(t, errMagic, info.ErrCorrupt)

	wrap := func(err error) error { return fmt.Errorf("information region at 0x80000 on primary: %w", err) }
	got := withRegionHint(wrap(errErased), "HINT")
	require.EqualError(t, got, "information region at 0x80000 on primary: corrupt information: no region header (erased): HINT")
	require.ErrorIs(t, got, info.ErrRegionErased)
	require.ErrorIs(t, got, info.ErrCorrupt)

	for _, err := range []error{wrap(errMagic), errors.New("no region header (erased); format the region first"), nil} {
		// Other damage, and a mere look-alike text, are not the erased
		// header: no hint, the error itself.
		require.Equal(t, err, withRegionHint(err, "HINT"), "%v", err)
	}

	// Reports carry the error's text only.
	require.Equal(t, "information region at 0x80000 on primary: corrupt information: no region header (erased): HINT",
		reportRegionHint(wrap(errErased).Error(), "HINT"))
	require.Equal(t, wrap(errMagic).Error(), reportRegionHint(wrap(errMagic).Error(), "HINT"), "other messages unchanged")
	require.Empty(t, reportRegionHint("", "HINT"))
}
