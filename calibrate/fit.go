package calibrate

import (
	"math"
	"time"

	"github.com/cmcsync/cmcsync/hal"
)

// ReadFit is the bus model fitted to the read medians:
//
//	t = CommandOverhead + pages × PageRead + bytes / BytesPerSec
//
// (PageRead only on NAND; NOR has no array-to-cache read).
type ReadFit struct {
	CommandOverhead time.Duration
	PageRead        time.Duration
	BytesPerSec     float64
	// Fallback says why the least-squares fit was not used, if it was not:
	// the rate is then the largest read's bytes over its median time and
	// the overhead what the smallest read leaves.
	Fallback string
}

// fitReads fits the bus model to the read shapes' medians by least
// squares of the relative error (each shape's equation divided by its
// median, so that a 16-byte read weighs as much as a 64 KiB one), with two
// unknowns on NOR and three on NAND. A fit that gives no positive rate
// falls back (ReadFit.Fallback); a negative overhead or page read time is
// left for the caller to note and clamp.
func fitReads(kind hal.Kind, shapes []ReadShape) ReadFit {
	var rows [][]float64
	var ys []float64
	for _, s := range shapes {
		w := 1.0
		if m := float64(s.Stats.Median); m > 0 {
			w = 1 / m
		}
		row := []float64{w, w * float64(s.Bytes)}
		if kind == hal.NAND {
			row = append(row, w*float64(s.Pages))
		}
		rows = append(rows, row)
		ys = append(ys, w*float64(s.Stats.Median))
	}
	coef, ok := leastSquares(rows, ys)
	if ok && coef[1] > 0 {
		f := ReadFit{CommandOverhead: time.Duration(math.Round(coef[0])), BytesPerSec: 1e9 / coef[1]}
		if kind == hal.NAND {
			f.PageRead = time.Duration(math.Round(coef[2]))
		}
		return f
	}
	small, large := shapes[0], shapes[len(shapes)-1]
	f := ReadFit{Fallback: "the read times do not grow with the read size; rate from the largest read alone"}
	if large.Stats.Median > 0 {
		f.BytesPerSec = float64(large.Bytes) / large.Stats.Median.Seconds()
		f.CommandOverhead = small.Stats.Median - time.Duration(float64(small.Bytes)/f.BytesPerSec*1e9)
	} else {
		f.BytesPerSec = math.Inf(1)
	}
	return f
}

// leastSquares solves min |A x − y|² through the normal equations
// (AᵀA) x = Aᵀy by Gaussian elimination with partial pivoting; false if
// they are singular. Columns are scaled to unit size first, so that a
// column of bytes (up to 64 Ki) and one of ones condition alike.
func leastSquares(a [][]float64, y []float64) ([]float64, bool) {
	if len(a) == 0 {
		return nil, false
	}
	n := len(a[0])
	if len(a) < n {
		return nil, false
	}
	scale := make([]float64, n)
	for j := range n {
		for i := range a {
			scale[j] = max(scale[j], math.Abs(a[i][j]))
		}
		if scale[j] == 0 {
			return nil, false
		}
	}
	m := make([][]float64, n) // augmented normal equations, n × (n+1)
	for j := range n {
		m[j] = make([]float64, n+1)
		for k := range n {
			for i := range a {
				m[j][k] += a[i][j] / scale[j] * a[i][k] / scale[k]
			}
		}
		for i := range a {
			m[j][n] += a[i][j] / scale[j] * y[i]
		}
	}
	for c := range n {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[p][c]) {
				p = r
			}
		}
		if math.Abs(m[p][c]) < 1e-12 {
			return nil, false
		}
		m[c], m[p] = m[p], m[c]
		for r := range n {
			if r == c {
				continue
			}
			f := m[r][c] / m[c][c]
			for k := c; k <= n; k++ {
				m[r][k] -= f * m[c][k]
			}
		}
	}
	x := make([]float64, n)
	for j := range n {
		x[j] = m[j][n] / m[j][j] / scale[j]
	}
	return x, true
}
