package calibrate

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
)

// Meta describes a calibration for the profile it writes.
type Meta struct {
	// Name is the profile's part name; "" gives "calibrated-" and the
	// device's name.
	Name string
	// Device is what was measured, e.g. "mtd:/dev/mtd6".
	Device string
	// At is when.
	At time.Time
	// Clock is "monotonic" (a real device, timed by the wall clock's
	// monotonic reading) or "virtual" (a simulator's clock).
	Clock string
	// Emulated marks a device that is an emulator's (QEMU), not a chip.
	Emulated bool
}

const (
	// blockRatioLimit decides whether a 64 KiB erase was one block erase
	// command: if its median, less an erase call's fixed cost, is below
	// this fraction of as many erase commands as it has erase blocks, the
	// driver used a larger erase. Linux's spi-nor core with 4 KiB sectors
	// issues 16 sector erases (ratio about 1); a real 64 KiB block erase
	// takes 0.2–0.6 of 16 sector erases on the parts in sim's table.
	blockRatioLimit = 0.8
	// assumedEndurance is written for the endurance, which a calibration
	// cannot measure: the usual rating of NOR and SLC NAND.
	assumedEndurance = 100_000
)

// deriver turns a Result into profile figures, collecting notes.
type deriver struct {
	r     *Result
	notes []string
}

func (d *deriver) note(format string, a ...any) { d.notes = append(d.notes, fmt.Sprintf(format, a...)) }

// less returns total − minus, or 0 with a note when that is negative.
func (d *deriver) less(what string, total, minus time.Duration) time.Duration {
	if v := total - minus; v >= 0 {
		return v
	}
	d.note("%s: the measured %v is less than the command overhead and transfer fitted from the reads (%v): set to 0, which no flash can do",
		what, total, minus)
	return 0
}

// Profile derives the part profile from the measurements (the package
// documentation says how each figure is derived). The profile is
// well-formed (sim.Profile.Part); whether it is plausible is
// sim.Part.CheckPlausible's question.
func (r *Result) Profile(m Meta) (sim.Profile, error) {
	g := r.Geometry
	d := &deriver{r: r}
	fit := fitReads(g.Kind, r.Reads)
	if fit.Fallback != "" {
		d.note("bus: %s", fit.Fallback)
	}
	overhead, pageRead := fit.CommandOverhead, fit.PageRead
	if overhead < 0 {
		d.note("command overhead: the fit gave %v; set to 0", overhead)
		overhead = 0
	}
	if pageRead < 0 {
		d.note("page read: the fit gave %v; set to 0", pageRead)
		pageRead = 0
	}
	rate := fit.BytesPerSec
	if math.IsInf(rate, 0) || math.IsNaN(rate) || rate > 1<<50 {
		d.note("bus rate: the reads took no measurable time; set to 2^50 B/s")
		rate = 1 << 50
	}
	transfer := time.Duration(math.Round(float64(g.PageSize) / rate * 1e9))
	typ := sim.Timing{
		PageProgram: d.less("typical page program", r.Program.Median, overhead+transfer),
		SectorErase: d.less("typical erase", r.Erase.Median, overhead),
		PageRead:    pageRead,
	}
	maxT := sim.Timing{
		PageProgram: d.less("max page program", r.Program.Max, overhead+transfer),
		SectorErase: d.less("max erase", r.Erase.Max, overhead),
	}
	if g.Kind == hal.NAND {
		maxT.PageRead = typ.PageRead
		for _, s := range r.Reads {
			if s.Bytes == g.PageSize {
				maxT.PageRead = max(typ.PageRead, d.less("max page read", s.Stats.Max, overhead+transfer))
			}
		}
	}
	var blockSize int64
	switch {
	case r.BlockWindow.Size > 0:
		blockSize = d.blockErase(&typ, &maxT, overhead)
	case g.Kind == hal.NOR && g.EraseSize >= blockWindow:
		d.note("block erase: the device erases %s units (a kernel without CONFIG_MTD_SPI_NOR_USE_4K_SECTORS): sector_erase_seconds is that unit's erase; the 4 KiB sector erase is not measurable through it",
			hal.FormatSize(g.EraseSize))
	case g.Kind == hal.NOR:
		d.note("block erase: not measured: the scratch holds no 64 KiB-aligned 64 KiB window (or --block-reps is 0)")
	}
	typ.ReadBytesPerSec, maxT.ReadBytesPerSec = int64(math.Round(rate)), int64(math.Round(rate))
	typ.CommandOverhead, maxT.CommandOverhead = overhead, overhead
	d.note("endurance: not measured; %d, the usual rating of NOR and SLC NAND", assumedEndurance)
	d.note("bus: lines and clock not known (/dev/mtd does not report them): the plausibility check bounds the rate by octal DTR at 200 MHz")

	name := m.Name
	if name == "" {
		name = DefaultName(g.Name)
	}
	at := m.At.UTC().Format(time.RFC3339)
	source := fmt.Sprintf("calibrated on %s at %s", m.Device, at)
	if m.Emulated {
		source += " (emulated: the figures are the emulator's, not a chip's)"
	}
	part := sim.Part{Name: name, Kind: g.Kind, Size: g.Size, EraseSize: g.EraseSize, BlockEraseSize: blockSize,
		PageSize: g.PageSize, WriteSize: g.WriteSize, Typical: typ, Max: maxT, Endurance: assumedEndurance}
	pr, err := sim.ProfileOf(part, source)
	if err != nil {
		return sim.Profile{}, err
	}
	pr.Emulated = m.Emulated
	pr.Notes = append(derivationNotes(r), d.notes...)
	pr.Calibration = &sim.Calibration{Device: m.Device, Geometry: g.String(), Scratch: r.Plan.Scratch.String(), At: at,
		Clock: m.Clock, Warmup: r.Plan.Warmup, Measurements: r.measurements()}
	if _, err := pr.Part(); err != nil {
		return sim.Profile{}, err
	}
	return pr, nil
}

// blockErase judges whether the 64 KiB erase was one command and, if it
// was, sets the block erase times and returns its size (else 0, with a
// note). An erase call costs a fixed part (system call, driver, emulation)
// and a part per erase command: the one-block and two-block erases give
// both, per command = median(two) − median(one), fixed = median(one) −
// per command, and the 64 KiB erase is one command when (median − fixed)
// is below blockRatioLimit × blocks × per command.
func (d *deriver) blockErase(typ, maxT *sim.Timing, overhead time.Duration) int64 {
	r, g := d.r, d.r.Geometry
	units := r.BlockWindow.Size / g.EraseSize
	perCommand := r.Pair.Median - r.Erase.Median
	fixed := r.Erase.Median - perCommand
	if perCommand <= 0 {
		d.note("block erase: not measurable: erasing two blocks (%v) took no longer than one (%v), so the cost of an erase command cannot be told from the call's",
			r.Pair.Median, r.Erase.Median)
		return 0
	}
	ratio := float64(r.Block.Median-fixed) / float64(time.Duration(units)*perCommand)
	size := hal.FormatSize(g.EraseSize)
	if ratio >= blockRatioLimit {
		d.note("block erase: not measurable: a 64 KiB erase took %.2f× %d erase commands of %s (%v each beyond a fixed %v per call), so the driver erased it %s by %s (as Linux's spi-nor core does with 4 KiB sectors, drivers/mtd/spi-nor/core.c spi_nor_erase); the profile has no block erase",
			ratio, units, size, us(perCommand), us(fixed), size, size)
		return 0
	}
	typ.BlockErase = d.less("typical block erase", r.Block.Median, overhead)
	maxT.BlockErase = d.less("max block erase", r.Block.Max, overhead)
	d.note("block erase: a 64 KiB erase took %.2f× %d erase commands of %s (%v each beyond a fixed %v per call): the driver erased the block with one command; typical and max from its median and observed maximum less the command overhead",
		ratio, units, size, us(perCommand), us(fixed))
	return r.BlockWindow.Size
}

// derivationNotes say how every figure of a calibrated profile is derived.
func derivationNotes(r *Result) []string {
	return []string{
		fmt.Sprintf("typical = the median of the timed operations; max = the observed maximum of %d (program: %d) samples, a lower bound of the chip's worst case (a datasheet maximum also covers temperature, voltage and wear)",
			r.Erase.Count, r.Program.Count),
		"bus_bytes_per_sec, command_overhead_seconds (and page_read_seconds on NAND): least-squares fit of the read medians to overhead + bytes/rate (+ pages × page read), over reads of 16 bytes to 64 KiB",
		"page_program_seconds: the median (max) of one page's program less the command overhead and the page's transfer at the fitted rate",
		"sector_erase_seconds: the median (max) of one erase block's erase (erase_size bytes) less the command overhead",
	}
}

// measurements are the raw statistics for the profile.
func (r *Result) measurements() []sim.Measurement {
	var out []sim.Measurement
	for _, s := range r.Reads {
		out = append(out, s.Stats.measurement("read", s.Bytes))
	}
	out = append(out, r.Program.measurement("program", r.Geometry.PageSize), r.Erase.measurement("erase", r.Geometry.EraseSize))
	if r.BlockWindow.Size > 0 {
		out = append(out, r.Block.measurement("erase-64k", r.BlockWindow.Size), r.Pair.measurement("erase-2", 2*r.Geometry.EraseSize))
	}
	return out
}

// DefaultName is the profile name of a calibration of the device named
// device when Meta.Name is empty: "calibrated-" and the device's name,
// lower case, with what a profile name may not hold replaced by '-'.
func DefaultName(device string) string { return "calibrated-" + profileName(device) }

// profileName lower-cases name and replaces what a profile name may not
// hold with '-'.
func profileName(name string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(name) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' {
			b.WriteRune(c)
		} else {
			b.WriteByte('-')
		}
	}
	s := b.String()
	if len(s) > 40 {
		s = s[:40]
	}
	if s == "" {
		s = "device"
	}
	return s
}
