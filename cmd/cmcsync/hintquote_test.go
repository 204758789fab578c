package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/faults/campaign"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/internal/shellquote/shelltest"
	"github.com/cmcsync/cmcsync/sim"
)

// nastyName is a file or device name a shell would split, expand or run
// if a printed command held it unquoted: a space, a comma (which a spec
// quotes), both quotes, parentheses, $ and a glob.
const nastyName = `my chip's (copy),1 "$HOME" *.x`

// cutCommand returns the command line in text between the start marker
// (kept: it begins the command) and end (dropped).
func cutCommand(t *testing.T, text, start, end string) string {
	t.Helper()
	i := strings.Index(text, start)
	require.GreaterOrEqual(t, i, 0, "%q not in %s", start, text)
	line, _, ok := strings.Cut(text[i:], end)
	require.True(t, ok, "%q not after %q in %s", end, start, text)
	return line
}

// TestSelftestReplayQuotesTheSpec: the replay line of a failed selftest
// on a spec with a nasty name, run by sh, gives cmcsync the spec as it
// was (printed unquoted, sh split it at the spaces and ran $HOME).
func TestSelftestReplayQuotesTheSpec(t *testing.T) {
	sched, err := faults.ParseSchedule(neighbourEraser)
	require.NoError(t, err)
	orig := openSelftestFlash
	t.Cleanup(func() { openSelftestFlash = orig })
	openSelftestFlash = func(s flashspec.Spec, c *sim.Clock) (hal.Flash, error) {
		f, err := orig(s, c)
		if err != nil {
			return nil, err
		}
		return faults.NewInjector(sched, faults.Options{}).Wrap(f, faults.Primary), nil
	}
	spec := flashspec.Spec{Backend: flashspec.Sim, Part: "w25q256jv", Size: 1 << 20, Name: nastyName}.String()
	out, _, err := runCmd("selftest", "--flash", spec)
	code, _ := exitOf(t, err)
	require.Equal(t, 1, code)
	line := cutCommand(t, out, "cmcsync selftest ", "\n")
	require.Equal(t, []string{"cmcsync", "selftest", "--flash", spec, "--check", "erase-neighbours"}, shelltest.Words(t, line))
}

// TestCalibrateHintQuotesThePath: calibrate's "use it with" commands,
// for a profile path with a nasty name, run by sh, give bench the path
// and sim:profile= the spec that names it.
func TestCalibrateHintQuotesThePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), nastyName+".json")
	out, errOut, err := runCmd("calibrate", "--flash", "sim:part=w25q256jv,size=4M", "--scratch", "3M+1M", "--out", path, "--reps", "10", "--block-reps", "0")
	require.NoError(t, err, errOut)
	bench := cutCommand(t, out, "cmcsync bench ", "`")
	require.Equal(t, []string{"cmcsync", "bench", "--part-file", path}, shelltest.Words(t, bench))
	flash := shelltest.Words(t, cutCommand(t, out, "--flash ", "`"))
	require.Len(t, flash, 2)
	s, err := flashspec.Parse(flash[1])
	require.NoError(t, err)
	require.Equal(t, path, s.Profile)
	_, err = os.Stat(s.Profile)
	require.NoError(t, err)
}

// TestCampaignReplayLineQuoted: a violation's replay line is one shell
// word whatever it holds (a quote in it ended the '...' it was printed
// in).
func TestCampaignReplayLineQuoted(t *testing.T) {
	replay := "small seed=1 mutant=none | (on (at 52) cut) | it's $x"
	var buf bytes.Buffer
	printReport(&buf, &campaign.Report{ViolationsTotal: 1, Violations: []campaign.Violation{{Replay: replay, Invariant: "durable"}}})
	line := cutCommand(t, buf.String(), "cmcsync campaign ", "\n")
	require.Equal(t, []string{"cmcsync", "campaign", "--replay", replay}, shelltest.Words(t, line))
}
