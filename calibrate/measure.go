package calibrate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cmcsync/cmcsync/hal"
)

// Clock times the operations: hal.SystemClock on a real device (time.Now
// carries the monotonic clock's reading, and Sub uses it), the simulator's
// virtual clock on a simulated one.
type Clock interface{ Now() time.Time }

// ReadShape is one size of read and its timings.
type ReadShape struct {
	Bytes int64 // bytes per read
	Pages int64 // program pages each read touches
	Stats Stats
}

// Result is what a calibration measured. Every sample is the clock's time
// around one hal.Flash call: the system call on Linux (pread, pwrite,
// MEMERASE), the simulator's charge on a simulated chip.
type Result struct {
	Geometry hal.Geometry
	Plan     Plan
	// Reads are the read shapes, smallest first.
	Reads []ReadShape
	// Program is one page program each: Geometry.PageSize bytes of seeded
	// data into an erased page.
	Program Stats
	// Erase is one erase of one erase block (Geometry.EraseSize), each
	// block fully programmed before.
	Erase Stats
	// Block is one 64 KiB erase each, over BlockWindow (Size 0: not
	// measured), the window fully programmed before; Pair is one erase of
	// the window's first two erase blocks each (programmed before): with
	// Erase it separates an erase call's fixed cost from each erase
	// command's, so that Block can be compared with what sector-by-sector
	// erasing would take.
	Block       Stats
	Pair        Stats
	BlockWindow Range
	// Elapsed is the clock's time over the whole run.
	Elapsed time.Duration
}

// runner is one calibration in progress.
type runner struct {
	ctx      context.Context
	f        hal.Flash
	clock    Clock
	g        hal.Geometry
	plan     Plan
	data     []byte // one erase block of seeded data
	buf      []byte
	progress func(string)
}

// Run calibrates f on plan.Scratch: it checks the plan (Plan.Check) and
// that no block of the scratch is bad, then, Warmup+Reps times, on the
// scratch's erase blocks in turn: programs the block page by page
// (timing each page), reads it in every shape (timing each read) and
// erases it (timing the erase); then, when the device's erase size is
// below 64 KiB and the scratch holds an aligned 64 KiB window, 1+BlockReps
// times: programs the window and times a 64 KiB erase of it, programs its
// first two erase blocks and times their erase. The first Warmup
// repetitions (and the first of the others) are not counted.
// Nothing outside the scratch is read or written; the scratch is left
// erased. progress, if not nil, receives a line now and then.
func Run(ctx context.Context, f hal.Flash, plan Plan, clock Clock, progress func(string)) (*Result, error) {
	g := f.Geometry()
	if err := plan.Check(g); err != nil {
		return nil, err
	}
	for off := plan.Scratch.Off; off < plan.Scratch.End(); off += g.EraseSize {
		bad, err := hal.IsBad(f, off)
		if err != nil {
			return nil, err
		}
		if bad {
			return nil, fmt.Errorf("%w: erase block at %#x of %v on %s; choose a range without bad blocks", ErrScratchBadBlock, off, plan.Scratch, g.Name)
		}
	}
	if progress == nil {
		progress = func(string) {}
	}
	r := &runner{ctx: ctx, f: f, clock: clock, g: g, plan: plan, progress: progress,
		data: make([]byte, g.EraseSize), buf: make([]byte, max(g.EraseSize, blockWindow))}
	rng := rand.New(rand.NewPCG(plan.Seed, plan.Seed^0x6a09e667f3bcc908))
	for i := range r.data {
		r.data[i] = byte(rng.Uint32())
	}
	start := clock.Now()
	res := &Result{Geometry: g, Plan: plan}
	if err := r.main(res); err != nil {
		return nil, err
	}
	if err := r.blockErases(res); err != nil {
		return nil, err
	}
	res.Elapsed = clock.Now().Sub(start)
	return res, nil
}

// readShapes are the reads timed on an erase block at off: 16 bytes, a
// page, two and four pages, the block, and a window of up to 64 KiB from the
// scratch's start when that is larger than a block — enough sizes to fit
// a command overhead and a rate (and, on NAND, a page read time).
func (r *runner) readShapes() []ReadShape {
	g, s := r.g, r.plan.Scratch
	var out []ReadShape
	add := func(n int64) {
		if n > 0 && (len(out) == 0 || n > out[len(out)-1].Bytes) {
			out = append(out, ReadShape{Bytes: n, Pages: (n + g.PageSize - 1) / g.PageSize})
		}
	}
	add(min(16, g.PageSize))
	add(g.PageSize)
	add(min(2*g.PageSize, g.EraseSize))
	add(min(4*g.PageSize, g.EraseSize))
	add(g.EraseSize)
	add(min(s.Size, blockWindow) / g.PageSize * g.PageSize)
	return out
}

// main runs the repetitions: program, read, erase, block after block.
func (r *runner) main(res *Result) error {
	g, plan := r.g, r.plan
	blocks := plan.Scratch.Size / g.EraseSize
	erased := make([]bool, blocks)
	res.Reads = r.readShapes()
	reads := make([][]time.Duration, len(res.Reads))
	var programs, erases []time.Duration
	total := plan.Warmup + plan.Reps
	r.progress(fmt.Sprintf("%d repetitions (%d warm-up) over %d erase blocks of %s: program %d pages, read %d shapes, erase",
		total, plan.Warmup, min(blocks, int64(total)), hal.FormatSize(g.EraseSize), g.EraseSize/g.PageSize, len(res.Reads)))
	for i := range total {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		counted := i >= plan.Warmup
		b := int64(i) % blocks
		off := plan.Scratch.Off + b*g.EraseSize
		if !erased[b] {
			if err := r.erase(off, g.EraseSize); err != nil {
				return err
			}
		}
		for p := int64(0); p < g.EraseSize; p += g.PageSize {
			d, err := r.program(r.data[p:p+g.PageSize], off+p)
			if err != nil {
				return err
			}
			if counted {
				programs = append(programs, d)
			}
		}
		for k, shape := range res.Reads {
			at := off
			if shape.Bytes > g.EraseSize {
				at = plan.Scratch.Off
			}
			d, err := r.read(shape.Bytes, at)
			if err != nil {
				return err
			}
			if counted {
				reads[k] = append(reads[k], d)
			}
		}
		d, err := r.timed(func() error { return r.erase(off, g.EraseSize) })
		if err != nil {
			return err
		}
		erased[b] = true
		if counted {
			erases = append(erases, d)
		}
		if (i+1)%10 == 0 || i+1 == total {
			r.progress(fmt.Sprintf("repetition %d/%d", i+1, total))
		}
	}
	// Leave the scratch erased: blocks never reached hold what they held.
	for b, ok := range erased {
		if !ok {
			if err := r.erase(plan.Scratch.Off+int64(b)*g.EraseSize, g.EraseSize); err != nil {
				return err
			}
		}
	}
	for k := range res.Reads {
		res.Reads[k].Stats = Summarize(reads[k])
	}
	res.Program, res.Erase = Summarize(programs), Summarize(erases)
	return nil
}

// blockErases times 64 KiB erases of an aligned window, and erases of its
// first two erase blocks, if there is one.
func (r *runner) blockErases(res *Result) error {
	w, ok := r.plan.blockWindowIn(r.g)
	if !ok || r.plan.BlockReps == 0 {
		return nil
	}
	r.progress(fmt.Sprintf("%d erases of the 64 KiB window %v and of its first %s (1 warm-up)",
		r.plan.BlockReps+1, w, hal.FormatSize(2*r.g.EraseSize)))
	var block, pair []time.Duration
	for i := range r.plan.BlockReps + 1 {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		for _, span := range []struct {
			size    int64
			samples *[]time.Duration
		}{{w.Size, &block}, {2 * r.g.EraseSize, &pair}} {
			for p := w.Off; p < w.Off+span.size; p += r.g.EraseSize {
				if _, err := r.program(r.data, p); err != nil {
					return err
				}
			}
			d, err := r.timed(func() error { return r.erase(w.Off, span.size) })
			if err != nil {
				return err
			}
			if i > 0 {
				*span.samples = append(*span.samples, d)
			}
		}
	}
	res.Block, res.Pair, res.BlockWindow = Summarize(block), Summarize(pair), w
	return nil
}

// timed returns the clock's time around fn.
func (r *runner) timed(fn func() error) (time.Duration, error) {
	t0 := r.clock.Now()
	err := fn()
	return r.clock.Now().Sub(t0), err
}

// inside refuses any operation outside the scratch: the last guard of
// "destructive there only".
func (r *runner) inside(op string, off, n int64) error {
	if s := r.plan.Scratch; off < s.Off || n > s.End()-off {
		return fmt.Errorf("calibrate: internal error: %s of %#x+%#x outside the scratch %v", op, off, n, s)
	}
	return nil
}

func (r *runner) program(p []byte, off int64) (time.Duration, error) {
	if err := r.inside("program", off, int64(len(p))); err != nil {
		return 0, err
	}
	return r.timed(func() error {
		if _, err := r.f.WriteAt(p, off); err != nil {
			return fmt.Errorf("program %d bytes at %#x: %w", len(p), off, err)
		}
		return nil
	})
}

func (r *runner) read(n, off int64) (time.Duration, error) {
	if err := r.inside("read", off, n); err != nil {
		return 0, err
	}
	return r.timed(func() error {
		if _, err := r.f.ReadAt(r.buf[:n], off); err != nil {
			return fmt.Errorf("read %d bytes at %#x: %w", n, off, err)
		}
		return nil
	})
}

func (r *runner) erase(off, n int64) error {
	if err := r.inside("erase", off, n); err != nil {
		return err
	}
	if err := r.f.Erase(off, n); err != nil {
		return fmt.Errorf("erase %s at %#x: %w", hal.FormatSize(n), off, err)
	}
	return nil
}
