package calibrate

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
)

// WriteText prints the measurements and the profile derived from them
// for a human: one line per kind of operation (count, median, p10, p90,
// min, max), then the profile's figures and notes.
func (r *Result) WriteText(w io.Writer, pr sim.Profile) error {
	fmt.Fprintf(w, "measured %v, scratch %v: %d repetitions after %d warm-up, in %v of clock time\n",
		r.Geometry, r.Plan.Scratch, r.Plan.Reps, r.Plan.Warmup, r.Elapsed.Round(time.Millisecond))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "op\tbytes\tcount\tmedian\tp10\tp90\tmin\tmax\t")
	row := func(op string, bytes int64, s Stats) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%v\t%v\t%v\t%v\t%v\t\n", op, bytes, s.Count, us(s.Median), us(s.P10), us(s.P90), us(s.Min), us(s.Max))
	}
	for _, s := range r.Reads {
		row("read", s.Bytes, s.Stats)
	}
	row("program", r.Geometry.PageSize, r.Program)
	row("erase", r.Geometry.EraseSize, r.Erase)
	if r.BlockWindow.Size > 0 {
		row("erase-64k", r.BlockWindow.Size, r.Block)
		row("erase-2", 2*r.Geometry.EraseSize, r.Pair)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	p, err := pr.Part()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "profile %s (%s):\n", pr.Name, pr.Source)
	fmt.Fprintf(w, "  %-18s%.3f MB/s, command overhead %v (both corners)\n", "bus rate", float64(p.Typical.ReadBytesPerSec)/1e6, us(p.Typical.CommandOverhead))
	figure := func(what string, typ, maxTime time.Duration) {
		fmt.Fprintf(w, "  %-18stypical %v, max %v\n", what, us(typ), us(maxTime))
	}
	figure("page program", p.Typical.PageProgram, p.Max.PageProgram)
	figure("erase ("+hal.FormatSize(p.EraseSize)+")", p.Typical.SectorErase, p.Max.SectorErase)
	if p.BlockEraseSize > 0 {
		figure("erase ("+hal.FormatSize(p.BlockEraseSize)+")", p.Typical.BlockErase, p.Max.BlockErase)
	}
	if p.Kind == hal.NAND {
		figure("page read", p.Typical.PageRead, p.Max.PageRead)
	}
	for _, n := range pr.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	return nil
}

// us rounds a duration for printing: to 10 ns below 10 µs, else to 0.1 µs
// below 10 ms, else to 1 µs.
func us(d time.Duration) time.Duration {
	switch {
	case d < 10*time.Microsecond:
		return d.Round(10 * time.Nanosecond)
	case d < 10*time.Millisecond:
		return d.Round(100 * time.Nanosecond)
	}
	return d.Round(time.Microsecond)
}
