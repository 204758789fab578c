package bench

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/cmcsync/cmcsync/hal"
)

// Strategy names, as they appear in rows, tables, plots and benchmark names.
const (
	StrategyEngine    = "engine"    // the cmcsync engine: one Round after the change
	StrategyFullCopy  = "flashcp"   // mtd-utils flashcp: erase all, program all, verify
	StrategyBlockDiff = "flashcp-p" // mtd-utils flashcp -p: per-erase-block diff in place
	StrategyFloor     = "floor"     // the physical floor (see Floor)
)

// Strategies lists the strategies in table order.
func Strategies() []string {
	return []string{StrategyEngine, StrategyFullCopy, StrategyBlockDiff, StrategyFloor}
}

// Row is one strategy's cost on one scenario (part, timing corner, region
// size, workload), averaged over the scenario's measured rounds.
type Row struct {
	Part       string `json:"part"`
	Timing     string `json:"timing"` // "typical" or "max"
	RegionSize int64  `json:"region_bytes"`
	Workload   string `json:"workload"`
	Strategy   string `json:"strategy"`
	Rounds     int    `json:"rounds"` // measured rounds the figures average over

	ChangedBytes float64 `json:"changed_bytes"` // bytes of the region that differ, per round
	ChangePct    float64 `json:"change_pct"`    // ChangedBytes / RegionSize × 100

	// SimSeconds is simulated device time per round, including StockErases
	// at the cheapest erase rate.
	SimSeconds float64 `json:"sim_seconds"`
	// Erases are erase units (the part's erase size) per round: those the
	// round erased plus StockErases.
	Erases float64 `json:"erases"`
	// StockErases are erased blocks the round consumed without erasing them
	// (negative: erased blocks it left for later rounds), per round; see
	// the package documentation.
	StockErases     float64 `json:"stock_erases"`
	PagesProgrammed float64 `json:"pages_programmed"`
	BytesProgrammed float64 `json:"bytes_programmed"`
	BytesRead       float64 `json:"bytes_read"`
	// WriteAmp is bytes programmed / bytes changed (0 when nothing changed).
	WriteAmp float64 `json:"write_amp"`
	// WorstWear is the most erases any one erase block took over the
	// measured rounds (all of them, not per round).
	WorstWear int64 `json:"worst_wear"`
	// HostCPUSeconds is host CPU time per round (process user+system time);
	// 0 for the floor, which is computed, not run.
	HostCPUSeconds float64 `json:"host_cpu_seconds"`
	// VsFloor is SimSeconds divided by the floor's SimSeconds of the same scenario.
	VsFloor float64 `json:"vs_floor"`
	// PageProgramSeconds is the part's page-program time at this timing
	// corner, so a reader can check SimSeconds ≥ PagesProgrammed × it.
	PageProgramSeconds float64 `json:"page_program_seconds"`
	// Where the simulated time went: bus reads (command + data), page
	// programs (command + data + tPP), erases, and waiting on the clock
	// without device work (e.g. a probe's timeout). They add up to SimSeconds.
	ReadSeconds    float64 `json:"read_seconds"`
	ProgramSeconds float64 `json:"program_seconds"`
	EraseSeconds   float64 `json:"erase_seconds"`
	WaitSeconds    float64 `json:"wait_seconds"`
}

// Key identifies the scenario a row belongs to.
func (r Row) Key() string {
	return fmt.Sprintf("%s/%s/%s/%s", r.Part, r.Timing, hal.FormatSize(r.RegionSize), r.Workload)
}

// Report is the result of Run.
type Report struct {
	Seed    uint64    `json:"seed"`
	Started string    `json:"started"`           // RFC 3339 wall time
	Skipped []string  `json:"skipped,omitempty"` // scenarios that could not run, with the reason
	Rows    []Row     `json:"rows"`
	Summary []Summary `json:"summary"`
	Targets []Target  `json:"targets"`
}

// Summary is the engine's standing on one workload over every part, timing
// corner and region size that ran it.
type Summary struct {
	Workload string `json:"workload"`
	Rows     int    `json:"rows"` // engine rows summarised
	// Engine time / floor time: median and worst, and where the worst was.
	FloorMedian float64 `json:"vs_floor_median"`
	FloorWorst  float64 `json:"vs_floor_worst"`
	WorstAt     string  `json:"worst_at"`
	// Engine time / flashcp -p time: the worst (highest).
	BlockDiffWorst float64 `json:"vs_flashcp_p_worst"`
	// flashcp time / engine time: the least speed-up over a full copy.
	FullCopySpeedup float64 `json:"flashcp_speedup_min"`
}

// Summarize returns one Summary per workload (in the order rows first show
// them) that has engine rows.
func Summarize(rows []Row) []Summary {
	var order []string
	ratios := map[string][]float64{}
	sums := map[string]*Summary{}
	for _, e := range rows {
		if e.Strategy != StrategyEngine {
			continue
		}
		s := sums[e.Workload]
		if s == nil {
			s = &Summary{Workload: e.Workload}
			sums[e.Workload] = s
			order = append(order, e.Workload)
		}
		k := e.Key()
		if f, ok := find(rows, k, StrategyFloor); ok && f.SimSeconds > 0 {
			r := e.SimSeconds / f.SimSeconds
			ratios[e.Workload] = append(ratios[e.Workload], r)
			if r > s.FloorWorst {
				s.FloorWorst, s.WorstAt = r, k
			}
		}
		if d, ok := find(rows, k, StrategyBlockDiff); ok && d.SimSeconds > 0 {
			s.BlockDiffWorst = max(s.BlockDiffWorst, e.SimSeconds/d.SimSeconds)
		}
		if c, ok := find(rows, k, StrategyFullCopy); ok && e.SimSeconds > 0 {
			if sp := c.SimSeconds / e.SimSeconds; s.FullCopySpeedup == 0 || sp < s.FullCopySpeedup {
				s.FullCopySpeedup = sp
			}
		}
		s.Rows++
	}
	out := make([]Summary, 0, len(order))
	for _, w := range order {
		s := sums[w]
		if r := ratios[w]; len(r) > 0 {
			slices.Sort(r)
			s.FloorMedian = r[len(r)/2]
		}
		out = append(out, *s)
	}
	return out
}

// Target is one of the performance targets, judged on the rows.
type Target struct {
	Name   string  `json:"name"`
	Met    bool    `json:"met"`
	Worst  float64 `json:"worst"`  // the worst ratio seen
	Limit  float64 `json:"limit"`  // the ratio the target allows
	Where  string  `json:"where"`  // the scenario of the worst ratio
	Rows   int     `json:"rows"`   // rows judged (0: target not measured)
	Detail string  `json:"detail"` // human summary
}

// find returns the row of strategy s in scenario key, if any.
func find(rows []Row, key, s string) (Row, bool) {
	for _, r := range rows {
		if r.Strategy == s && r.Key() == key {
			return r, true
		}
	}
	return Row{}, false
}

// Judge evaluates the targets of the issue on rows:
//   - the engine within 1.15× of the floor on every workload;
//   - the engine never slower than the per-block diff (flashcp -p);
//   - the engine at least 20× faster than the full copy at 1% clustered
//     change of an 8 MiB region on MX66L1G45G and W25Q256JV, typical timings.
func Judge(rows []Row) []Target {
	floorT := Target{Name: "engine ≤ 1.15× floor, every workload", Limit: 1.15}
	diffT := Target{Name: "engine ≤ 1× flashcp -p, every workload", Limit: 1}
	copyT := Target{Name: "flashcp ≥ 20× engine, 1% clustered, 8 MiB, mx66l1g45g+w25q256jv typical", Limit: 1.0 / 20}
	worse := func(t *Target, ratio float64, where string) {
		t.Rows++
		if t.Rows == 1 || ratio > t.Worst {
			t.Worst, t.Where = ratio, where
		}
	}
	for _, e := range rows {
		if e.Strategy != StrategyEngine {
			continue
		}
		k := e.Key()
		if f, ok := find(rows, k, StrategyFloor); ok && f.SimSeconds > 0 {
			worse(&floorT, e.SimSeconds/f.SimSeconds, k)
		}
		if d, ok := find(rows, k, StrategyBlockDiff); ok && d.SimSeconds > 0 {
			worse(&diffT, e.SimSeconds/d.SimSeconds, k)
		}
		if e.Timing == "typical" && e.RegionSize == 8<<20 && e.Workload == "clustered-1pct" &&
			(e.Part == "mx66l1g45g" || e.Part == "w25q256jv") {
			if c, ok := find(rows, k, StrategyFullCopy); ok && c.SimSeconds > 0 {
				worse(&copyT, e.SimSeconds/c.SimSeconds, k)
			}
		}
	}
	out := []Target{floorT, diffT, copyT}
	for i := range out {
		t := &out[i]
		switch {
		case t.Rows == 0:
			t.Detail = "not measured (no matching rows)"
		case i == 2:
			t.Met = t.Worst <= t.Limit
			t.Detail = fmt.Sprintf("worst speed-up %.1f× at %s over %d rows", 1/t.Worst, t.Where, t.Rows)
		default:
			t.Met = t.Worst <= t.Limit
			t.Detail = fmt.Sprintf("worst %.3f× at %s over %d rows", t.Worst, t.Where, t.Rows)
		}
	}
	return out
}

// WriteJSON writes r as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the rows as an aligned text table, then the targets.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "part\ttiming\tregion\tworkload\tstrategy\tchange%\tsim-s\t×floor\terases\tpages\tread-MiB\tWA\twear\tcpu-ms\t")
	for _, row := range r.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%s\t%s\t%.1f\t%s\t%d\t%.1f\t\n",
			row.Part, row.Timing, hal.FormatSize(row.RegionSize), row.Workload, row.Strategy,
			sig(row.ChangePct), sig(row.SimSeconds), row.VsFloor, sig(row.Erases), sig(row.PagesProgrammed),
			row.BytesRead/(1<<20), sig(row.WriteAmp), row.WorstWear, row.HostCPUSeconds*1000)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range r.Skipped {
		fmt.Fprintln(w, s)
	}
	if len(r.Summary) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "engine by workload\trows\t×floor median\t×floor worst\t×flashcp-p worst\tflashcp speed-up min\tworst at\t")
		for _, s := range r.Summary {
			fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%.3f\t%.1f\t%s\t\n", s.Workload, s.Rows, s.FloorMedian, s.FloorWorst, s.BlockDiffWorst, s.FullCopySpeedup, s.WorstAt)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, t := range r.Targets {
		status := "MISSED"
		if t.Met {
			status = "met"
		}
		if t.Rows == 0 {
			status = "n/a"
		}
		fmt.Fprintf(w, "target %-6s %s: %s\n", status, t.Name, t.Detail)
	}
	return nil
}

// sig formats v with 3 significant digits, without exponent for usual sizes.
func sig(v float64) string {
	switch a := math.Abs(v); {
	case v == math.Trunc(v) && a < 1e15:
		return fmt.Sprintf("%.0f", v)
	case a >= 1000:
		return fmt.Sprintf("%.0f", v)
	case a >= 100:
		return fmt.Sprintf("%.1f", v)
	case a >= 10:
		return fmt.Sprintf("%.2f", v)
	case a >= 0.001:
		return fmt.Sprintf("%.3g", v)
	}
	return fmt.Sprintf("%.2e", v)
}

// sortRows orders rows by part, timing, region, workload, then strategy order.
func sortRows(rows []Row, workloadOrder []string) {
	pos := func(list []string, s string) int {
		if i := slices.Index(list, s); i >= 0 {
			return i
		}
		return len(list)
	}
	slices.SortStableFunc(rows, func(a, b Row) int {
		if c := strings.Compare(a.Part, b.Part); c != 0 {
			return c
		}
		if c := strings.Compare(b.Timing, a.Timing); c != 0 { // typical before max
			return c
		}
		if c := cmp.Compare(a.RegionSize, b.RegionSize); c != 0 {
			return c
		}
		if c := pos(workloadOrder, a.Workload) - pos(workloadOrder, b.Workload); c != 0 {
			return c
		}
		return pos(Strategies(), a.Strategy) - pos(Strategies(), b.Strategy)
	})
}
