package scenario

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults/campaign"
	"github.com/cmcsync/cmcsync/qemu/guest"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// hostNAND is the NAND world on the host: each phase loads the image files
// onto fresh simulated NAND chips of the nandsim partitions' size with the
// scenario's factory bad blocks (guest.LoadImage), runs the guest's replay
// code on them, and saves them back (guest.SaveImage): what the x86 guest
// does with nandsim, but for the kernel.
type hostNAND struct {
	primary, backup string
	bad             [2][]int64
}

func (hostNAND) imageSize() int64 { return nandPartSize }

func (h hostNAND) run(ctx context.Context, cmd guest.ReplayCommand) ([]guest.Line, error) {
	p, err := sim.LookupPart(nandPart)
	if err != nil {
		return nil, err
	}
	var chips [2]*sim.Flash
	for i, path := range []string{h.primary, h.backup} {
		f, err := sim.New(sim.Options{Part: p, Size: nandPartSize})
		if err != nil {
			return nil, err
		}
		for _, b := range h.bad[i] {
			if err := f.MarkBad(b * nandBlock); err != nil {
				return nil, err
			}
		}
		img, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		_, err = guest.LoadImage(f, img, nandPartSize)
		img.Close()
		if err != nil {
			return nil, err
		}
		chips[i] = f
	}
	cmd.ExitAtCut = true
	var out bytes.Buffer
	if err := guest.RunReplay(ctx, cmd, chips[0], chips[1], guest.NewWriter(&out)); err != nil {
		return nil, err
	}
	for i, path := range []string{h.primary, h.backup} {
		img, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		_, err = guest.SaveImage(chips[i], img, nandPartSize)
		if cerr := img.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
	}
	return guest.Parse(out.String())
}

// The NAND differential's points run on the host's NAND world (the guest's
// replay code, its image load and save, the factory bad blocks) equal the
// simulator's: operations, chips, backup and verdicts; one of them has
// the round step over a factory bad block, and the no-purge mutant cut at
// the commit fails the same invariants in both.
func TestNANDExactCutOnHostEqualsSimulator(t *testing.T) {
	ctx := context.Background()
	ps, err := campaign.WorldPoints(ctx, nandScenario, 1, engine.None)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(ps), nandDiffPoints)
	pick := campaign.SamplePoints(ps, nandDiffSample)
	dir := t.TempDir()
	plan, err := campaign.PlanWorld(ctx, pick[0].Case)
	require.NoError(t, err)
	require.NotEmpty(t, plan.FactoryBad[1], "the nand scenario has a factory bad block on the backup")
	crossed := false
	w := hostNAND{primary: filepath.Join(dir, "primary.img"), backup: filepath.Join(dir, "backup.img"), bad: plan.FactoryBad}
	cases := []campaign.Case{}
	for _, p := range pick {
		cases = append(cases, p.Case)
	}
	// The no-purge mutant cut at the commit: both worlds fail purged and
	// live. The live round after the guest's recovery runs on an engine
	// the oracle opens afresh; before the simulator's side did the same
	// (campaign.JudgeWorld's second boot) its live round ran on the
	// engine that recovered and committed, while the world's programmed
	// the unpurged block 202 (a NAND programming rule broken): a
	// difference of the judge, not of the chips.
	np := pick[len(pick)-1].Case
	require.Equal(t, "commit", pick[len(pick)-1].Kind)
	np.Mutant = engine.NoPurge
	cases = append(cases, np)
	for _, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			x, err := exactCut(ctx, w, w.primary, w.backup, c)
			require.NoError(t, err)
			t.Log(x.Line())
			require.True(t, x.TraceSame, "%v", x.Differences)
			require.Empty(t, x.Differences)
			require.Equal(t, x.SimFailed(), x.Failed())
			if c.Mutant == engine.NoPurge {
				require.Equal(t, []string{"purged", "live"}, x.Failed())
				return
			}
			require.Empty(t, x.Failed())
			p, err := campaign.PlanWorld(ctx, c)
			require.NoError(t, err)
			crossed = crossed || len(p.Crossed) > 0
		})
	}
	require.True(t, crossed, "no sampled point's round stepped over a factory bad block")
}

// The NAND comparison fails on a world whose bad blocks are not the
// simulator's: a chip without the factory bad block the round steps over
// (campaign.NANDRoundBad) lets the round allocate it, so at some cut point
// the operations, chips or verdicts differ.
func TestNANDExactCutSeesOtherBadBlocks(t *testing.T) {
	ctx := context.Background()
	ps, err := campaign.WorldPoints(ctx, nandScenario, 1, engine.None)
	require.NoError(t, err)
	dir := t.TempDir()
	w := hostNAND{primary: filepath.Join(dir, "primary.img"), backup: filepath.Join(dir, "backup.img"),
		bad: [2][]int64{nil, {campaign.NANDFactoryBad}}}
	var seen []string
	for _, p := range ps {
		x, err := exactCut(ctx, w, w.primary, w.backup, p.Case)
		if errors.Is(err, ErrCutNotReached) {
			t.Logf("%s: the world's round ended before the simulator's cut point: %v", p.Case, err)
			return // the world did not even reach the operation the simulator cut
		}
		require.NoError(t, err)
		if !x.TraceSame || len(x.Differences) > 0 {
			t.Log(x.Line())
			return
		}
		seen = append(seen, p.Case.String())
	}
	t.Fatalf("no cut point of the round tells a world with other bad blocks from the simulator: %v", seen)
}

// The factory-bad-block checks fail on a wrong state: a guest load that
// found another number of bad blocks than the scenario has, a scenario
// without one on the backup, and a run none of whose points crossed one.
func TestNANDFactoryBadChecks(t *testing.T) {
	plan := &campaign.WorldPlan{FactoryBad: [2][]int64{nil, {campaign.NANDFactoryBad, campaign.NANDRoundBad}}}
	tests := []struct {
		name string
		plan *campaign.WorldPlan
		seen [][2]int
		ok   bool
	}{
		{"both phases saw both", plan, [][2]int{{0, 2}, {0, 2}}, true},
		{"a phase missed one", plan, [][2]int{{0, 2}, {0, 1}}, false},
		{"one on the primary too", plan, [][2]int{{1, 2}, {0, 2}}, false},
		{"no load seen", plan, nil, false},
		{"no factory bad block", &campaign.WorldPlan{}, [][2]int{{0, 0}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Report
			checkFactoryBad(&r, "point 1", tt.plan, tt.seen)
			require.Len(t, r.Checks, 1)
			require.Equal(t, tt.ok, r.Checks[0].OK, r.Checks[0].Detail)
		})
	}
	var r Report
	checkCrossed(&r, []ExactCut{{KilledAt: 33}, {KilledAt: 41}})
	require.False(t, r.Checks[0].OK, r.Checks[0].Detail)
	checkCrossed(&r, []ExactCut{{KilledAt: 33}, {KilledAt: 380, Crossed: []int64{campaign.NANDRoundBad}}})
	require.True(t, r.Checks[1].OK, r.Checks[1].Detail)
	require.Contains(t, r.Checks[1].Detail, "point 2 (op 380): [204]")
}

func TestLoadedBad(t *testing.T) {
	n, err := loadedBad("load /dev/mtd1: 256 blocks (2 bad), 1234 pages programmed\n")
	require.NoError(t, err)
	require.Equal(t, 2, n)
	_, err = loadedBad("insmod: nope")
	require.ErrorContains(t, err, "no block account")
}
