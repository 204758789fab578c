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
	StrategyEngine       = "engine"        // the cmcsync engine: one Round after the change
	StrategyFullCopy     = "flashcp"       // mtd-utils flashcp: erase all, program all, verify
	StrategyBlockDiff    = "flashcp-p"     // mtd-utils flashcp -p: per-erase-block diff in place, verify each
	StrategyFlashrom     = "flashrom"      // flashrom: erase only for 0→1 bits, program differing pages, verify
	StrategyRewriteFloor = "rewrite-floor" // the rewrite floor (see RewriteFloor)
)

// Strategies lists the strategies in table order.
func Strategies() []string {
	return []string{StrategyEngine, StrategyFullCopy, StrategyBlockDiff, StrategyFlashrom, StrategyRewriteFloor}
}

// Row is one strategy's cost on one scenario (part, timing corner, erase
// model, region size, workload), averaged over the scenario's measured
// rounds.
type Row struct {
	Part   string `json:"part"`
	Timing string `json:"timing"` // "typical" or "max"
	// EraseModel is the erase unit of the Linux MTD layer: "4k" (the 4 KiB
	// sector, a kernel with CONFIG_MTD_SPI_NOR_USE_4K_SECTORS) or "64k"
	// (the 64 KiB block); see sim.EraseModel.
	EraseModel string `json:"erase_model"`
	RegionSize int64  `json:"region_bytes"`
	Workload   string `json:"workload"`
	Strategy   string `json:"strategy"`
	Rounds     int    `json:"rounds"` // measured rounds the figures average over

	ChangedBytes float64 `json:"changed_bytes"` // bytes of the region that differ, per round
	ChangePct    float64 `json:"change_pct"`    // ChangedBytes / RegionSize × 100

	// LatencySeconds is what a round waits for, per round: the simulated
	// time it took (its reads, programs and the erases it did, and any wait
	// on the clock). For the rewrite floor, its reads and programs: its
	// erases can be done ahead of need.
	LatencySeconds float64 `json:"latency_seconds"`
	// DeviceSeconds is the device time a round costs, per round:
	// LatencySeconds plus the round's share of work done outside it — the
	// erased blocks it consumed from the stock without erasing them (minus
	// those it left erased), at one erase command and one read of the
	// erase unit (the check that it is erased) each. No strategy here
	// works in idle time, so it equals LatencySeconds when a round leaves
	// the stock as it found it. For the rewrite floor it adds its erases.
	DeviceSeconds float64 `json:"device_seconds"`
	// Erases are erase units (of the erase model) per round: those the
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
	// 0 for the rewrite floor, which is computed, not run.
	HostCPUSeconds float64 `json:"host_cpu_seconds"`
	// VsRewriteFloor is DeviceSeconds divided by the rewrite floor's
	// DeviceSeconds in the same scenario.
	VsRewriteFloor float64 `json:"vs_rewrite_floor"`
	// PhysicalFloorSeconds is the scenario's physical floor per round
	// (PhysicalFloor: read the changed bytes, program them, erase that
	// much, amortised); PhysicalFloorLatencySeconds is the same without the
	// erases. Every row of a scenario carries them.
	PhysicalFloorSeconds        float64 `json:"physical_floor_seconds"`
	PhysicalFloorLatencySeconds float64 `json:"physical_floor_latency_seconds"`
	// VsPhysicalFloor is DeviceSeconds / PhysicalFloorSeconds.
	VsPhysicalFloor float64 `json:"vs_physical_floor"`
	// PageProgramSeconds is the part's page-program time at this timing
	// corner, so a reader can check DeviceSeconds ≥ PagesProgrammed × it.
	PageProgramSeconds float64 `json:"page_program_seconds"`
	// CommitRecordSeconds is the device time of one commit record at this
	// timing corner and erase model (Model.CommitRecord): the allowance
	// the targets give over the physical floor.
	CommitRecordSeconds float64 `json:"commit_record_seconds"`
	// Where the device time went: bus reads (command + data), page
	// programs (command + data + tPP), erases (including StockErases), and
	// waiting on the clock without device work (e.g. a probe's timeout).
	// They add up to DeviceSeconds.
	ReadSeconds    float64 `json:"read_seconds"`
	ProgramSeconds float64 `json:"program_seconds"`
	EraseSeconds   float64 `json:"erase_seconds"`
	WaitSeconds    float64 `json:"wait_seconds"`
}

// Key identifies the scenario a row belongs to, e.g.
// "mx66l1g45g/typical/4k/8MiB/cmc-10m".
func (r Row) Key() string {
	return fmt.Sprintf("%s/%s/%s/%s/%s", r.Part, r.Timing, r.EraseModel, hal.FormatSize(r.RegionSize), r.Workload)
}

// Report is the result of Run.
type Report struct {
	Seed    uint64   `json:"seed"`
	Started string   `json:"started"`           // RFC 3339 wall time
	Skipped []string `json:"skipped,omitempty"` // scenarios that could not run, with the reason
	// Warnings name the profiles that ran although physically implausible
	// (Config.AllowImplausible).
	Warnings []string  `json:"warnings,omitempty"`
	Rows     []Row     `json:"rows"`
	Summary  []Summary `json:"summary"`
	Targets  []Target  `json:"targets"`
	// Wear is the wear run judged as target (e), if one ran (AddWear).
	Wear *WearReport `json:"wear,omitempty"`
}

// AddWear records a wear run and its target (e).
func (r *Report) AddWear(w WearReport) {
	r.Wear = &w
	r.Targets = append(r.Targets, w.Target())
}

// Summary is the engine's standing on one workload and erase model over
// every part, timing corner and region size that ran it.
type Summary struct {
	Workload   string `json:"workload"`
	EraseModel string `json:"erase_model"`
	Rows       int    `json:"rows"` // engine rows summarised
	// Engine device time / physical floor: median and worst, and where the
	// worst was.
	PhysicalMedian float64 `json:"vs_physical_floor_median"`
	PhysicalWorst  float64 `json:"vs_physical_floor_worst"`
	WorstAt        string  `json:"worst_at"`
	// Engine device time / flashcp -p's and / flashrom's: the worst (highest).
	BlockDiffWorst float64 `json:"vs_flashcp_p_worst"`
	FlashromWorst  float64 `json:"vs_flashrom_worst"`
	// flashcp time / engine time: the least speed-up over a full copy.
	FullCopySpeedup float64 `json:"flashcp_speedup_min"`
}

// Summarize returns one Summary per workload and erase model (in the order
// rows first show them) that has engine rows.
func Summarize(rows []Row) []Summary {
	var order []string
	ratios := map[string][]float64{}
	sums := map[string]*Summary{}
	worst := func(cur *float64, e Row, peer string) {
		if d, ok := find(rows, e.Key(), peer); ok && d.DeviceSeconds > 0 {
			*cur = max(*cur, e.DeviceSeconds/d.DeviceSeconds)
		}
	}
	for _, e := range rows {
		if e.Strategy != StrategyEngine {
			continue
		}
		group := e.Workload + "/" + e.EraseModel
		s := sums[group]
		if s == nil {
			s = &Summary{Workload: e.Workload, EraseModel: e.EraseModel}
			sums[group] = s
			order = append(order, group)
		}
		if e.PhysicalFloorSeconds > 0 {
			r := e.DeviceSeconds / e.PhysicalFloorSeconds
			ratios[group] = append(ratios[group], r)
			if r > s.PhysicalWorst {
				s.PhysicalWorst, s.WorstAt = r, e.Key()
			}
		}
		worst(&s.BlockDiffWorst, e, StrategyBlockDiff)
		worst(&s.FlashromWorst, e, StrategyFlashrom)
		if c, ok := find(rows, e.Key(), StrategyFullCopy); ok && e.DeviceSeconds > 0 {
			if sp := c.DeviceSeconds / e.DeviceSeconds; s.FullCopySpeedup == 0 || sp < s.FullCopySpeedup {
				s.FullCopySpeedup = sp
			}
		}
		s.Rows++
	}
	out := make([]Summary, 0, len(order))
	for _, g := range order {
		s := sums[g]
		if r := ratios[g]; len(r) > 0 {
			slices.Sort(r)
			s.PhysicalMedian = r[len(r)/2]
		}
		out = append(out, *s)
	}
	return out
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

// WriteJSON writes r as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the warnings, the rows as an aligned text table, then the skipped
// scenarios, the engine's summary by workload and the target lines.
func (r *Report) WriteTable(w io.Writer) error {
	for _, s := range r.Warnings {
		fmt.Fprintln(w, "WARNING:", s)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "part\ttiming\terase\tregion\tworkload\tstrategy\tchange%\tlatency-s\tdevice-s\tphys-s\tphys-lat-s\t×phys\t×rewrite\terases\tpages\tread-MiB\tWA\twear\tcpu-ms\t")
	for _, row := range r.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%s\t%s\t%.1f\t%s\t%d\t%.1f\t\n",
			row.Part, row.Timing, row.EraseModel, hal.FormatSize(row.RegionSize), row.Workload, row.Strategy,
			sig(row.ChangePct), sig(row.LatencySeconds), sig(row.DeviceSeconds), sig(row.PhysicalFloorSeconds),
			sig(row.PhysicalFloorLatencySeconds), sig(row.VsPhysicalFloor), row.VsRewriteFloor, sig(row.Erases), sig(row.PagesProgrammed),
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
		fmt.Fprintln(tw, "engine by workload\terase\trows\t×phys median\t×phys worst\t×flashcp-p worst\t×flashrom worst\tflashcp speed-up min\tworst at\t")
		for _, s := range r.Summary {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%.3f\t%.3f\t%.1f\t%s\t\n", s.Workload, s.EraseModel, s.Rows,
				sig(s.PhysicalMedian), sig(s.PhysicalWorst), s.BlockDiffWorst, s.FlashromWorst, s.FullCopySpeedup, s.WorstAt)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, t := range r.Targets {
		fmt.Fprintln(w, t.Line())
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

// sortRows orders rows by part, timing, erase model, region, workload,
// then strategy order.
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
		if c := pos(DefaultEraseModels(), a.EraseModel) - pos(DefaultEraseModels(), b.EraseModel); c != 0 { // 4k before 64k
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
