package bench

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// judgeRows is one 4k scenario (scattered-1pct, 8 MiB, typical) with every
// strategy, built so that every target is just met: the engine's latency
// and device time are at their bounds, 10× below flashcp and flashcp -p,
// and below flashrom.
func judgeRows() []Row {
	mk := func(s string, latency, device float64) Row {
		return Row{Part: "w25q256jv", Timing: "typical", EraseModel: "4k", RegionSize: 8 << 20, Workload: "scattered-1pct",
			Strategy: s, LatencySeconds: latency, DeviceSeconds: device,
			PhysicalFloorLatencySeconds: 0.4, PhysicalFloorSeconds: 0.8, CommitRecordSeconds: 0.01}
	}
	return []Row{
		mk(StrategyRewriteFloor, 2, 3),
		mk(StrategyEngine, 1.25*0.4+0.01, 1.25*0.8+0.01), // 0.51 s, 1.01 s
		mk(StrategyFullCopy, 60, 60),
		mk(StrategyBlockDiff, 10.3, 10.3),
		mk(StrategyFlashrom, 1.05, 1.05),
	}
}

func judged(t *testing.T, rows []Row, id, em string) Target {
	t.Helper()
	for _, tg := range Judge(rows) {
		if tg.ID == id && tg.EraseModel == em {
			return tg
		}
	}
	t.Fatalf("no target (%s) for %s", id, em)
	return Target{}
}

// Each target is met on judgeRows and missed when one figure moves past
// its bound; the worst row and the bound are reported.
func TestJudge(t *testing.T) {
	const engine = 1
	for _, tc := range []struct {
		id    string
		miss  func(rows []Row) // makes the target missed
		bound float64          // the target's bound on judgeRows
	}{
		{"a", func(rows []Row) { rows[engine].LatencySeconds = 0.52 }, 0.51},
		{"b", func(rows []Row) { rows[engine].DeviceSeconds = 1.02 }, 1.01},
		{"c", func(rows []Row) { rows[3].DeviceSeconds = 10 }, 6}, // flashcp -p 10 s: bound 1 s < 1.01 s
		{"d", func(rows []Row) { rows[4].DeviceSeconds = 1 }, 1.05},
	} {
		t.Run(tc.id, func(t *testing.T) {
			met := judged(t, judgeRows(), tc.id, "4k")
			require.True(t, met.Met, met.Line())
			require.True(t, met.Gated)
			require.Equal(t, 1, met.Rows)
			require.LessOrEqual(t, met.Worst, 1.0)
			require.Equal(t, "w25q256jv/typical/4k/8MiB/scattered-1pct", met.Where)
			if tc.id != "c" {
				require.InDelta(t, tc.bound, met.Bound, 1e-9)
			}
			require.True(t, strings.HasPrefix(met.Line(), "target met    ("+tc.id+") [4k] "), met.Line())

			rows := judgeRows()
			tc.miss(rows)
			missed := judged(t, rows, tc.id, "4k")
			require.False(t, missed.Met, missed.Line())
			require.Greater(t, missed.Worst, 1.0)
			require.True(t, strings.HasPrefix(missed.Line(), "target MISSED ("+tc.id+") [4k] "), missed.Line())
			rep := &Report{Targets: Judge(rows)}
			require.Len(t, rep.Failed(), 1)
			require.Equal(t, tc.id, rep.Failed()[0].ID)
		})
	}
	// The 64k model is judged on its own rows, reported but not gated.
	rows := judgeRows()
	for i := range rows {
		rows[i].EraseModel = "64k"
	}
	rows[engine].LatencySeconds = 9
	tg := judged(t, rows, "a", "64k")
	require.False(t, tg.Met)
	require.False(t, tg.Gated)
	require.True(t, strings.HasPrefix(tg.Line(), "report missed (a) [64k, not gated] "), tg.Line())
	rep := &Report{Targets: Judge(rows)}
	require.Len(t, rep.Failed(), 4, "the 4k targets are not measured: they fail the check")
	for _, f := range rep.Failed() {
		require.Equal(t, "4k", f.EraseModel)
		require.Equal(t, "n/a", f.Status())
	}
}

// Target (c) judges only scattered-1pct on 8 MiB at typical timing, and
// needs both copies; (d) needs both peers; the worst of several rows wins.
func TestJudgeSelectsRows(t *testing.T) {
	rows := judgeRows()
	other := judgeRows()
	for i := range other {
		other[i].Workload = "clustered-1pct"
	}
	other[1].DeviceSeconds = 2 // worse against flashrom (1.05 s) than the scattered row
	rows = append(rows, other...)
	c := judged(t, rows, "c", "4k")
	require.Equal(t, 1, c.Rows, "only scattered-1pct counts for (c)")
	d := judged(t, rows, "d", "4k")
	require.Equal(t, 2, d.Rows)
	require.False(t, d.Met)
	require.Contains(t, d.Where, "clustered-1pct")
	require.InDelta(t, 2/1.05, d.Worst, 1e-9)

	withoutFlashrom := judgeRows()[:4]
	require.Zero(t, judged(t, withoutFlashrom, "d", "4k").Rows)
	require.Equal(t, 1, judged(t, withoutFlashrom, "c", "4k").Rows)
	require.Zero(t, judged(t, nil, "a", "4k").Rows)
}

func TestWriteTargets(t *testing.T) {
	rep := &Report{Targets: Judge(judgeRows())}
	var b strings.Builder
	require.NoError(t, rep.WriteTargets(&b))
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	require.Len(t, lines, 1+8)
	require.Regexp(t, `^target\s+erase\s+gated\s+status\s+worst row\s+measured\s+bound\s+unit\s+×bound\s+rows$`, lines[0])
	require.Contains(t, lines[1], "(a)")
	require.Contains(t, lines[1], "met")
	require.Contains(t, lines[1], "w25q256jv/typical/4k/8MiB/scattered-1pct")
	require.Contains(t, lines[5], "n/a")
}
