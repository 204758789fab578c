package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cmcsync/cmcsync/internal/jsonout"
	"github.com/cmcsync/cmcsync/sync/engine"
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

	// Reports keep the error beside its text: the hint is chosen by the
	// error, whatever the text says.
	require.Equal(t, "information region at 0x80000 on primary: corrupt information: no region header (erased): HINT",
		reportRegionHint(wrap(errErased).Error(), wrap(errErased), "HINT"))
	require.Equal(t, wrap(errMagic).Error(), reportRegionHint(wrap(errMagic).Error(), wrap(errMagic), "HINT"), "other messages unchanged")
	lookalike := lookalikeErased()
	require.Equal(t, lookalike.Error(), reportRegionHint(lookalike.Error(), lookalike, "HINT"), "a look-alike text is not the erased header")
	require.Equal(t, wrap(errErased).Error(), reportRegionHint(wrap(errErased).Error(), nil, "HINT"), "a text without its error (a decoded report): no hint")
	require.Empty(t, reportRegionHint("", nil, "HINT"))
}

// lookalikeErased is an error that is not an erased region header but
// whose text holds info.ErrRegionErased's words.
func lookalikeErased() error {
	return fmt.Errorf("record of type fru on primary: corrupt information: payload quotes %q", info.ErrRegionErased.Error())
}

// TestReportHintByErrorNotText: the commands' report lines (inspect's
// DAMAGED line, sync's anomaly line and its exit message) carry the
// format-the-region hint for an erased region header, known by the
// error the engine's report keeps (errors.Is), and not for another error
// whose text merely contains the same words.
func TestReportHintByErrorNotText(t *testing.T) {
	_, erasedErr := info.DecodeRegionHeader(bytes.Repeat([]byte{0xFF}, info.RegionHeaderSize))
	require.ErrorIs(t, erasedErr, info.ErrRegionErased)
	erased := fmt.Errorf("information region at 0x80000 on primary: %w", erasedErr)
	lookalike := lookalikeErased()
	require.NotErrorIs(t, lookalike, info.ErrRegionErased)
	require.Contains(t, lookalike.Error(), info.ErrRegionErased.Error())

	const hinted = "no region header (erased): cmcsync failback formats chip A's information region"
	lines := map[string]func(err error) string{
		"inspect": func(err error) string {
			var b strings.Builder
			printInspection(&b, &engine.Inspection{InfoError: err.Error(), InfoErr: err})
			return b.String()
		},
		"sync round": func(err error) string {
			var b strings.Builder
			rep := engine.RoundReport{Outcome: engine.OutcomeInterrupted, Anomaly: err.Error(), AnomalyErr: err}
			printSync(&b, &syncResult{Round: jsonout.FromRound(rep), anomaly: rep.AnomalyErr})
			return b.String()
		},
		"sync exit": func(err error) string {
			rep := engine.RoundReport{Outcome: engine.OutcomeFailover, Anomaly: err.Error(), AnomalyErr: err}
			return roundNotSynced(rep, engine.Status{}).Error()
		},
	}
	for name, line := range lines {
		t.Run(name, func(t *testing.T) {
			got := line(erased)
			require.Contains(t, got, hinted)
			require.NotContains(t, got, "format the region first")
			got = line(lookalike)
			require.Contains(t, got, lookalike.Error(), "the look-alike's text as it is")
			require.NotContains(t, got, erasedHinted, "no hint for a look-alike text")
		})
	}
}
