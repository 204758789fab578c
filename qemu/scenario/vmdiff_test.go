package scenario

import (
	"context"
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults/campaign"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// Every replay line `make vm-diff` runs after the points is a mutant's
// power cut the worlds can run: its cut strikes an operation of the
// round (an index past the round's end is an error here, not an hour into
// the run), and each mutant has one line.
func TestVMDiffExtraLinesPlan(t *testing.T) {
	mk, err := os.ReadFile("../../Makefile")
	require.NoError(t, err)
	lines := regexp.MustCompile(`--extra '([^']+)'`).FindAllStringSubmatch(string(mk), -1)
	require.NotEmpty(t, lines)
	seen := map[string]bool{}
	for _, m := range lines {
		c, err := campaign.ParseCase(m[1])
		require.NoError(t, err, m[1])
		require.NotEqual(t, engine.None, c.Mutant, m[1])
		key := c.Scenario + " " + c.Mutant.String()
		require.False(t, seen[key], "two lines for %s", key)
		seen[key] = true
		p, err := campaign.PlanWorld(context.Background(), c)
		require.NoError(t, err, m[1])
		t.Logf("%s: cut at op %d (%v)", m[1], p.CutAt, p.Ops[p.CutAt])
		requireShowsItsMutant(t, m[1])
	}
	// The exact no-purge cut TestScenariosInQEMU boots is one of them.
	require.Contains(t, string(mk), "--extra '"+noPurgeExactCut+"'")
	for _, k := range []string{"standard no-purge", "standard commit-before-durable", "standard reinit-in-flight",
		"standard primary-written", "standard delta-before-durable", "nand no-purge"} {
		require.True(t, seen[k], "no vm-diff line for %s", k)
	}
}

// requireShowsItsMutant: the replay line's mutant fails an invariant in
// the simulator. A format change that moves the round's operations (the
// commit record one index earlier, say) turns a line that showed its
// mutant into one that shows nothing; this says so in a second, not in a
// QEMU run.
func requireShowsItsMutant(t *testing.T, line string) {
	t.Helper()
	c, err := campaign.ParseCase(line)
	require.NoError(t, err, line)
	vs, err := campaign.Replay(context.Background(), c)
	require.NoError(t, err, line)
	for _, v := range vs {
		if !v.OK {
			return
		}
	}
	require.Failf(t, "the line no longer shows its mutant", "%s: every invariant holds in the simulator (find the operation that shows it with cmcsync campaign --replay)", line)
}
