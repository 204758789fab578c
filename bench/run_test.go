package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sim"
)

// smallConfig is a run that takes a few seconds: one part, both timing
// corners, a 1 MiB region, one realistic and two synthetic workloads.
func smallConfig(seed uint64) Config {
	return Config{Parts: []string{"w25q256jv"}, Sizes: []int64{1 << 20},
		Workloads: []Workload{Activity(10*time.Minute, 2), Synthetic(1, true), Synthetic(1, false)}, Seed: seed}
}

var smallReport *Report

func runSmall(t *testing.T) *Report {
	t.Helper()
	if smallReport == nil {
		rep, err := Run(context.Background(), smallConfig(7))
		require.NoError(t, err, "replay: go test ./bench -run %s (seed 7)", t.Name())
		smallReport = rep
	}
	return smallReport
}

func TestRunRowsAreComplete(t *testing.T) {
	rep := runSmall(t)
	c, err := smallConfig(7).withDefaults()
	require.NoError(t, err)
	// every scenario has a floor row and one row per strategy
	want := len(c.Timings) * len(c.Workloads) * (1 + len(c.Strategies))
	if !engineAvailable {
		want -= len(c.Timings) * len(c.Workloads)
	}
	require.Len(t, rep.Rows, want)
	for _, r := range rep.Rows {
		require.Positive(t, r.SimSeconds, r.Key()+" "+r.Strategy)
		require.Positive(t, r.ChangedBytes, r.Key())
		require.InDelta(t, r.SimSeconds, r.ReadSeconds+r.ProgramSeconds+r.EraseSeconds+r.WaitSeconds, 1e-6, r.Key()+" "+r.Strategy)
	}
}

// The simulator really charges the work: no row can take less simulated
// time than its page programs alone need at the part's page-program time.
func TestRunChargesPagePrograms(t *testing.T) {
	for _, r := range runSmall(t).Rows {
		require.GreaterOrEqual(t, r.SimSeconds, r.PagesProgrammed*r.PageProgramSeconds, "%s %s", r.Key(), r.Strategy)
		require.Positive(t, r.PagesProgrammed, "%s %s", r.Key(), r.Strategy)
	}
}

// The floor is below every strategy that ran, in time and in page programs.
func TestRunFloorIsBelowEveryStrategy(t *testing.T) {
	rows := runSmall(t).Rows
	for _, r := range rows {
		f, ok := find(rows, r.Key(), StrategyFloor)
		require.True(t, ok, r.Key())
		require.LessOrEqual(t, f.SimSeconds, r.SimSeconds, "%s %s", r.Key(), r.Strategy)
		require.LessOrEqual(t, f.BytesRead, r.BytesRead, "%s %s", r.Key(), r.Strategy)
		require.GreaterOrEqual(t, r.VsFloor, 1.0, "%s %s", r.Key(), r.Strategy)
	}
}

// Full copy does exactly what flashcp does: erase, program and read back
// the whole region, and read the source once.
func TestRunFullCopyFigures(t *testing.T) {
	for _, r := range runSmall(t).Rows {
		if r.Strategy != StrategyFullCopy {
			continue
		}
		require.Equal(t, float64(r.RegionSize/4096), r.Erases)
		require.Equal(t, float64(r.RegionSize/256), r.PagesProgrammed)
		require.Equal(t, float64(2*r.RegionSize), r.BytesRead)
		require.EqualValues(t, r.Rounds, r.WorstWear) // every block erased once per round
	}
}

func TestRunIsDeterministic(t *testing.T) {
	a := runSmall(t)
	b, err := Run(context.Background(), smallConfig(7))
	require.NoError(t, err)
	require.Equal(t, len(a.Rows), len(b.Rows))
	for i := range a.Rows {
		x, y := a.Rows[i], b.Rows[i]
		x.HostCPUSeconds, y.HostCPUSeconds = 0, 0
		require.Equal(t, x, y)
	}
}

func TestReportJSONAndTable(t *testing.T) {
	rep := runSmall(t)
	var js bytes.Buffer
	require.NoError(t, rep.WriteJSON(&js))
	var back Report
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	require.Equal(t, len(rep.Rows), len(back.Rows))
	require.Equal(t, rep.Rows[0].Part, back.Rows[0].Part)
	require.Len(t, back.Targets, 3)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(js.Bytes(), &raw))
	row := raw["rows"].([]any)[0].(map[string]any)
	for _, k := range []string{"part", "timing", "region_bytes", "workload", "strategy", "sim_seconds", "erases",
		"pages_programmed", "bytes_read", "write_amp", "worst_wear", "host_cpu_seconds", "vs_floor"} {
		require.Contains(t, row, k)
	}

	var tb bytes.Buffer
	require.NoError(t, rep.WriteTable(&tb))
	lines := strings.Split(strings.TrimRight(tb.String(), "\n"), "\n")
	require.Len(t, lines, 1+len(rep.Rows)+len(rep.Skipped)+2+len(rep.Summary)+len(rep.Targets))
	require.Len(t, rep.Summary, len(smallConfig(7).Workloads))
	sum := lines[1+len(rep.Rows)+len(rep.Skipped)+1]
	require.True(t, strings.HasPrefix(strings.TrimSpace(sum), "engine by workload"), sum)
	for _, s := range rep.Summary {
		require.Equal(t, 2, s.Rows) // typical and max
		require.GreaterOrEqual(t, s.FloorWorst, s.FloorMedian)
		require.GreaterOrEqual(t, s.FloorMedian, 1.0)
		require.Positive(t, s.FullCopySpeedup)
	}
	header := strings.Fields(lines[0])
	require.Equal(t, "part", header[0])
	for _, l := range lines[1 : 1+len(rep.Rows)] {
		require.Len(t, strings.Fields(l), len(header), l)
	}
	require.True(t, strings.HasPrefix(lines[len(lines)-1], "target "))
}

func TestWritePlots(t *testing.T) {
	dir := t.TempDir()
	paths, err := runSmall(t).WritePlots(dir)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{
		filepath.Join(dir, "w25q256jv-typical-1mib.png"), filepath.Join(dir, "w25q256jv-typical-1mib.svg"),
		filepath.Join(dir, "w25q256jv-max-1mib.png"), filepath.Join(dir, "w25q256jv-max-1mib.svg"),
	}, paths)
	f, err := os.Open(paths[0])
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	require.Greater(t, img.Bounds().Dx(), 300)
	svg, err := os.ReadFile(filepath.Join(dir, "w25q256jv-typical-1mib.svg"))
	require.NoError(t, err)
	require.Contains(t, string(svg), "<svg")
	require.Contains(t, string(svg), "flashcp")
}

func TestConfigRejectsBadInput(t *testing.T) {
	for _, c := range []Config{
		{Parts: []string{"nope"}},
		{Parts: []string{"mt29f2g01"}}, // NAND
		{Timings: []string{"fast"}},
		{Sizes: []int64{1000}},
		{Strategies: []string{"rsync"}},
		{Workloads: []Workload{{Name: "x", Rounds: 1}}},
		{Workloads: []Workload{{Name: "x", Fraction: 0.1}}},
	} {
		require.Error(t, c.Validate(), "%+v", c)
		_, err := Run(context.Background(), c)
		require.Error(t, err)
	}
	require.NoError(t, Config{}.Validate())
	require.NoError(t, Quick(1).Validate())
}

func TestWorkloadNames(t *testing.T) {
	require.Equal(t, "cmc-10m", Activity(10*time.Minute, 1).Name)
	require.Equal(t, "cmc-1h", Activity(time.Hour, 1).Name)
	require.Equal(t, "cmc-1m30s", Activity(90*time.Second, 1).Name)
	require.Equal(t, "clustered-0.1pct", Synthetic(0.1, true).Name)
	require.Equal(t, "scattered-100pct", Synthetic(100, false).Name)
	ws, err := LookupWorkloads([]string{"cmc-10m", "scattered-1pct"})
	require.NoError(t, err)
	require.Len(t, ws, 2)
	_, err = LookupWorkloads([]string{"cmc-2m"})
	require.ErrorContains(t, err, "known: cmc-1m")
	for _, w := range DefaultWorkloads() {
		require.NoError(t, w.Validate())
	}
}

func TestJudge(t *testing.T) {
	mk := func(part, wl, s string, sec float64) Row {
		return Row{Part: part, Timing: "typical", RegionSize: 8 << 20, Workload: wl, Strategy: s, SimSeconds: sec}
	}
	rows := []Row{
		mk("w25q256jv", "clustered-1pct", StrategyFloor, 1), mk("w25q256jv", "clustered-1pct", StrategyEngine, 1.1),
		mk("w25q256jv", "clustered-1pct", StrategyBlockDiff, 1.2), mk("w25q256jv", "clustered-1pct", StrategyFullCopy, 30),
		mk("w25q256jv", "scattered-1pct", StrategyFloor, 10), mk("w25q256jv", "scattered-1pct", StrategyEngine, 12),
		mk("w25q256jv", "scattered-1pct", StrategyBlockDiff, 11), mk("w25q256jv", "scattered-1pct", StrategyFullCopy, 13),
	}
	ts := Judge(rows)
	require.Len(t, ts, 3)
	require.False(t, ts[0].Met) // 1.2× floor on scattered
	require.InDelta(t, 1.2, ts[0].Worst, 1e-9)
	require.Contains(t, ts[0].Where, "scattered-1pct")
	require.False(t, ts[1].Met) // slower than flashcp -p on scattered
	require.True(t, ts[2].Met)  // 30/1.1 = 27× on clustered 1%
	require.Equal(t, 1, ts[2].Rows)
	rows[3].SimSeconds = 20 // now only 18×
	require.False(t, Judge(rows)[2].Met)
	require.Zero(t, Judge(nil)[0].Rows)
}

func TestModelOf(t *testing.T) {
	p, err := sim.LookupPart("w25q256jv")
	require.NoError(t, err)
	m := ModelOf(p, false)
	require.Equal(t, 700*time.Microsecond, m.PageProgram)
	require.Equal(t, 50*time.Millisecond, m.SectorErase)
	require.Equal(t, int64(64<<10), m.BlockEraseSize)
	require.NoError(t, m.Validate())
	require.Equal(t, 3*time.Millisecond, ModelOf(p, true).PageProgram)
}

// The quick run covers both target parts at 8 MiB: every target is
// measured, and the invariants hold on every row.
func TestQuickRunInvariants(t *testing.T) {
	if testing.Short() {
		t.Skip("a quick bench run takes a few seconds")
	}
	rep, err := Run(context.Background(), Quick(11))
	require.NoError(t, err, "replay: go test ./bench -run TestQuickRunInvariants (seed 11)")
	require.Empty(t, rep.Skipped)
	for _, r := range rep.Rows {
		f, ok := find(rep.Rows, r.Key(), StrategyFloor)
		require.True(t, ok)
		require.LessOrEqual(t, f.SimSeconds, r.SimSeconds, "%s %s", r.Key(), r.Strategy)
		require.GreaterOrEqual(t, r.SimSeconds, r.PagesProgrammed*r.PageProgramSeconds, "%s %s", r.Key(), r.Strategy)
	}
	for _, tg := range rep.Targets {
		require.Positive(t, tg.Rows, tg.Name)
		require.NotEmpty(t, tg.Where, tg.Name)
	}
}
