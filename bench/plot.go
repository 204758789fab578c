package bench

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/cmcsync/cmcsync/hal"
)

// strategyColor gives each strategy one colour in every plot.
var strategyColor = map[string]color.Color{
	StrategyEngine:       color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	StrategyFullCopy:     color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	StrategyBlockDiff:    color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	StrategyFlashrom:     color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
	StrategyRewriteFloor: color.RGBA{R: 0x2c, G: 0x2c, B: 0x2c, A: 0xff},
	physicalFloor:        color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
}

// physicalFloor names the physical floor's line in plots (it is not a
// strategy: every row carries it).
const physicalFloor = "physical floor"

// PlotName is the file name (without extension) of the plot of one part,
// timing corner, erase model and region size.
func PlotName(part, timing, eraseModel string, regionSize int64) string {
	return fmt.Sprintf("%s-%s-%s-%s", part, timing, eraseModel, strings.ToLower(hal.FormatSize(regionSize)))
}

// WritePlots draws, for every part, timing corner, erase model and region
// size in the report, device time per sync against change size: one line
// per strategy (solid: clustered changes, dashed: scattered), the rewrite
// floor and the physical floor included. Each plot is written to dir as
// PNG and SVG; the paths written are returned.
func (r *Report) WritePlots(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	type group struct {
		part, timing, erase string
		size                int64
	}
	var groups []group
	for _, row := range r.Rows {
		g := group{row.Part, row.Timing, row.EraseModel, row.RegionSize}
		if !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	var written []string
	for _, g := range groups {
		p, ok, err := r.plotOne(g.part, g.timing, g.erase, g.size)
		if err != nil {
			return written, err
		}
		if !ok {
			continue
		}
		for _, ext := range []string{"png", "svg"} {
			path := filepath.Join(dir, PlotName(g.part, g.timing, g.erase, g.size)+"."+ext)
			if err := p.Save(16*vg.Centimeter, 11*vg.Centimeter, path); err != nil {
				return written, fmt.Errorf("plots: %w", err)
			}
			written = append(written, path)
		}
	}
	return written, nil
}

// plotOne builds the plot of one group; ok is false when the group has no
// rows to draw. Colours are strategies; solid lines with circles are
// clustered changes, dashed lines with boxes scattered ones, triangles CMC
// activity (cmcsim.Generator.Step) between syncs.
func (r *Report) plotOne(part, timing, erase string, size int64) (*plot.Plot, bool, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s (%s timings, %s erase), %s info region: one sync after a change", part, timing, erase, hal.FormatSize(size))
	p.X.Label.Text = "changed bytes (% of region)"
	p.Y.Label.Text = "device time per sync (s)"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = ticks125{}, ticks125{}
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.YOffs = vg.Points(10)
	p.Add(plotter.NewGrid())
	type style struct {
		name   string
		match  func(w string) bool
		dashes []vg.Length
		glyph  draw.GlyphDrawer
		line   bool
	}
	styles := []style{
		{"clustered", func(w string) bool { return strings.HasPrefix(w, "clustered-") }, nil, draw.CircleGlyph{}, true},
		{"scattered", func(w string) bool { return strings.HasPrefix(w, "scattered-") }, []vg.Length{vg.Points(5), vg.Points(3)}, draw.BoxGlyph{}, true},
		{"CMC activity", func(w string) bool { return strings.HasPrefix(w, "cmc-") }, nil, draw.TriangleGlyph{}, false},
	}
	drawn := map[string]bool{}
	// The engine is drawn last, on top: it often lies on a floor or on a
	// peer. The physical floor is read off the rewrite floor's rows (every
	// row of a scenario carries it).
	drawOrder := []string{physicalFloor, StrategyRewriteFloor, StrategyFullCopy, StrategyBlockDiff, StrategyFlashrom, StrategyEngine}
	for _, st := range styles {
		for _, s := range drawOrder {
			var pts plotter.XYs
			for _, row := range r.Rows {
				strategy, y := row.Strategy, row.DeviceSeconds
				if s == physicalFloor && strategy == StrategyRewriteFloor {
					strategy, y = physicalFloor, row.PhysicalFloorSeconds
				}
				if row.Part != part || row.Timing != timing || row.EraseModel != erase || row.RegionSize != size || strategy != s ||
					!st.match(row.Workload) || row.ChangePct <= 0 || y <= 0 {
					continue
				}
				pts = append(pts, plotter.XY{X: row.ChangePct, Y: y})
			}
			if len(pts) == 0 {
				continue
			}
			slices.SortFunc(pts, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
			points, err := plotter.NewScatter(pts)
			if err != nil {
				return nil, false, fmt.Errorf("plot %s: %w", s, err)
			}
			points.Color, points.Shape = strategyColor[s], st.glyph
			if st.line {
				line, err := plotter.NewLine(pts)
				if err != nil {
					return nil, false, fmt.Errorf("plot %s: %w", s, err)
				}
				line.Color, line.Dashes, line.Width = strategyColor[s], st.dashes, vg.Points(1.5)
				switch s {
				case StrategyRewriteFloor, physicalFloor:
					line.Width = vg.Points(3.5)
				case StrategyEngine:
					line.Width = vg.Points(1.8)
				}
				p.Add(line)
			}
			p.Add(points)
			drawn[s], drawn[st.name] = true, true
		}
	}
	if len(drawn) == 0 {
		return nil, false, nil
	}
	// Legend: one entry per strategy (its colour), one per pattern (its style).
	for _, s := range append(Strategies(), physicalFloor) {
		if drawn[s] {
			l := &plotter.Line{LineStyle: draw.LineStyle{Color: strategyColor[s], Width: vg.Points(3)}}
			p.Legend.Add(s, l)
		}
	}
	for _, st := range styles {
		if !drawn[st.name] {
			continue
		}
		sc := &plotter.Scatter{GlyphStyle: draw.GlyphStyle{Color: color.Gray{Y: 0x60}, Radius: vg.Points(3), Shape: st.glyph}}
		if st.line {
			l := &plotter.Line{LineStyle: draw.LineStyle{Color: color.Gray{Y: 0x60}, Width: vg.Points(1.5), Dashes: st.dashes}}
			p.Legend.Add(st.name, l, sc)
		} else {
			p.Legend.Add(st.name, sc)
		}
	}
	return p, true, nil
}

// ticks125 marks a log axis at 1, 2 and 5 times powers of ten, labelled.
type ticks125 struct{}

// Ticks returns the ticks between min and max.
func (ticks125) Ticks(min, max float64) []plot.Tick {
	if min <= 0 || max <= min {
		return nil
	}
	var ts []plot.Tick
	for e := math.Floor(math.Log10(min)); math.Pow(10, e) <= max; e++ {
		base := math.Pow(10, e)
		for _, m := range []float64{1, 2, 5} {
			v := m * base
			if v < min || v > max {
				continue
			}
			ts = append(ts, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', -1, 64)})
		}
	}
	return ts
}
