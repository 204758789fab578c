package haltest

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/cmcsync/cmcsync/hal"
)

// check is one statement of the HAL contract.
type check struct {
	name    string
	summary string
	runOnly bool
	run     func(d *dut) error
}

var checks = []check{
	{name: "geometry", summary: "the geometry is valid and stable", run: checkGeometry},
	{name: "erase-to-ff", summary: "erase sets whole blocks at the start, middle and end to 0xFF", run: checkEraseToFF},
	{name: "erase-range", summary: "one erase of several blocks erases them all", run: checkEraseRange},
	{name: "program-read", summary: "programmed data reads back, in one write or many small ones", run: checkProgramRead},
	{name: "program-across-blocks", summary: "one program may cross an erase-block boundary", run: checkProgramAcross},
	{name: "read-across-blocks", summary: "reads at any offset and length, across block boundaries, return the data", run: checkReadAcross},
	{name: "read-pieces", summary: "hal.ReadAtPieces returns what ReadAt returns, each piece final when handed on, the last one whole", run: checkReadPieces},
	{name: "end-of-device", summary: "the last bytes of the device can be programmed and read", run: checkEndOfDevice},
	{name: "nor-and", summary: "NOR: a program only clears bits (old AND new)", run: checkNORAnd},
	{name: "nand-program-once", summary: "NAND: programming a page twice without an erase fails and changes nothing", run: checkNANDOnce},
	{name: "unaligned-rejected", summary: "unaligned programs and erases fail with ErrUnaligned and change nothing", run: checkUnaligned},
	{name: "out-of-range-rejected", summary: "reads, programs and erases past either end fail with ErrOutOfRange and change nothing", run: checkOutOfRange},
	{name: "erase-neighbours", summary: "an erase leaves the neighbouring blocks untouched", run: checkEraseNeighbours},
	{name: "typed-errors", summary: "errors are *hal.OpError values naming the operation, and errors.Is finds the sentinel", run: checkTypedErrors},
	{name: "zero-length", summary: "zero-length reads and programs succeed and change nothing; a zero-length erase is ErrUnaligned", run: checkZeroLength},
	{name: "bad-block-query", summary: "IsBad answers for every block, consistently, and rejects offsets off the device", run: checkBadBlockQuery},
	{name: "buffer-ownership", summary: "the device does not keep the caller's buffers", run: checkBuffers},
	{name: "stats", summary: "statistics (if kept) count reads, programs and erases and never go back", run: checkStats},
	{name: "bad-block-marking", summary: "a block marked bad reads as bad and refuses erase with ErrBadBlock", runOnly: true, run: checkBadBlockMarking},
	{name: "closed", summary: "after Close every operation fails with ErrClosed", runOnly: true, run: checkClosed},
}

func checkGeometry(d *dut) error {
	g := d.g
	if err := g.Validate(); err != nil {
		return err
	}
	if again := d.f.Geometry(); again != g {
		return fmt.Errorf("Geometry() changed between calls: %v, then %v", g, again)
	}
	if g.PageSize < g.WriteSize {
		return fmt.Errorf("page size %d is smaller than the write size %d", g.PageSize, g.WriteSize)
	}
	if g.Kind == hal.NAND && g.WriteSize != g.PageSize {
		return fmt.Errorf("NAND write size %d differs from the page size %d (pages are programmed whole)", g.WriteSize, g.PageSize)
	}
	return nil
}

func checkEraseToFF(d *dut) error {
	spots, err := d.spots(1)
	if err != nil {
		return err
	}
	for _, b := range spots {
		// Program something first, so the erase has work to do.
		if _, err := d.prepare(b, 1); err != nil {
			return err
		}
		if err := d.erase(d.block(b), d.g.EraseSize); err != nil {
			return err
		}
		if err := d.expectErased(d.block(b), d.g.EraseSize, fmt.Sprintf("block %d after erase", b)); err != nil {
			return err
		}
	}
	return nil
}

func checkEraseRange(d *dut) error {
	b, err := d.goodRun(d.g.Blocks()/3, 3)
	if err != nil {
		return err
	}
	if _, err := d.prepare(b, 3); err != nil {
		return err
	}
	n := 3 * d.g.EraseSize
	if err := d.erase(d.block(b), n); err != nil {
		return err
	}
	return d.expectErased(d.block(b), n, fmt.Sprintf("blocks %d-%d after one erase", b, b+2))
}

func checkProgramRead(d *dut) error {
	spots, err := d.spots(1)
	if err != nil {
		return err
	}
	// One write of a whole block at the start.
	if _, err := d.prepare(spots[0], 1); err != nil {
		return err
	}
	data, err := d.read(d.block(spots[0]), d.g.EraseSize)
	if err != nil {
		return err
	}
	again, err := d.read(d.block(spots[0]), d.g.EraseSize)
	if err != nil {
		return err
	}
	if i := firstDiff(data, again); i >= 0 {
		return fmt.Errorf("two reads of block %d differ at byte %d", spots[0], i)
	}
	// Many small writes in increasing order in the middle: write units on
	// NAND, pieces of 1 to 3 pages on NOR.
	b := spots[len(spots)/2]
	off := d.block(b)
	if err := d.erase(off, d.g.EraseSize); err != nil {
		return err
	}
	want := d.random(d.g.EraseSize)
	for pos := int64(0); pos < d.g.EraseSize; {
		n := d.g.WriteSize
		if d.g.Kind == hal.NOR {
			n = 1 + d.rng.Int64N(3*d.g.PageSize)
		}
		n = min(n, d.g.EraseSize-pos)
		if err := d.program(want[pos:pos+n], off+pos); err != nil {
			return err
		}
		pos += n
	}
	return d.expect(off, want, fmt.Sprintf("block %d programmed piece by piece", b))
}

func checkProgramAcross(d *dut) error {
	b, err := d.goodRun(d.g.Blocks()/2, 2)
	if err != nil {
		return err
	}
	if err := d.erase(d.block(b), 2*d.g.EraseSize); err != nil {
		return err
	}
	// NAND pages go in order within a block: start at the block's first page.
	// NOR: start one and a half pages (plus a byte) before the boundary.
	// Either way, end a little past the boundary, inside block b+1.
	start := d.block(b)
	fwd := min(2*d.g.WriteSize, d.g.EraseSize)
	if d.g.Kind == hal.NOR {
		start = d.block(b+1) - min(3*d.g.PageSize/2+1, d.g.EraseSize-1)
		fwd = min(d.g.PageSize+1, d.g.EraseSize-1)
	}
	end := d.block(b+1) + fwd
	data := d.random(end - start)
	if err := d.program(data, start); err != nil {
		return err
	}
	if err := d.expect(start, data, "program across blocks"); err != nil {
		return err
	}
	return d.expectErased(end, d.block(b+2)-end, "bytes after the program")
}

func checkReadAcross(d *dut) error {
	b, err := d.goodRun(d.g.Blocks()/4, 2)
	if err != nil {
		return err
	}
	data, err := d.prepare(b, 2)
	if err != nil {
		return err
	}
	base, boundary := d.block(b), d.g.EraseSize
	for range 32 {
		lo := boundary - 1 - d.rng.Int64N(min(boundary, 3*d.g.PageSize))
		hi := boundary + 1 + d.rng.Int64N(min(boundary, 3*d.g.PageSize))
		if err := d.expect(base+lo, data[lo:hi], "read across the block boundary"); err != nil {
			return err
		}
	}
	// Odd-sized reads anywhere in the two blocks.
	for range 32 {
		lo := d.rng.Int64N(int64(len(data)))
		hi := lo + 1 + d.rng.Int64N(min(int64(len(data))-lo, 1000))
		if err := d.expect(base+lo, data[lo:hi], "unaligned read"); err != nil {
			return err
		}
	}
	return nil
}

func checkReadPieces(d *dut) error {
	b, err := d.goodRun(d.g.Blocks()/3, 3)
	if err != nil {
		return err
	}
	data, err := d.prepare(b, 3)
	if err != nil {
		return err
	}
	base := d.block(b)
	for range 16 {
		lo := d.rng.Int64N(int64(len(data)))
		hi := lo + 1 + d.rng.Int64N(int64(len(data))-lo)
		p := make([]byte, hi-lo)
		last := 0
		var bad error
		_, err := hal.ReadAtPieces(d.f, p, base+lo, func(filled int) {
			switch {
			case bad != nil:
			case filled < last || filled > len(p):
				bad = fmt.Errorf("read pieces: piece ends at %d after %d, in a %d-byte read", filled, last, len(p))
			case firstDiff(p[:filled], data[lo:lo+int64(filled)]) >= 0:
				bad = fmt.Errorf("read pieces at %#x: a piece of %d bytes is not the data when handed on", base+lo, filled)
			}
			last = filled
		})
		if err != nil {
			return fmt.Errorf("read pieces at %#x: %w", base+lo, err)
		}
		if bad != nil {
			return bad
		}
		if last != len(p) {
			return fmt.Errorf("read pieces at %#x: the last piece ends at %d of %d bytes", base+lo, last, len(p))
		}
		if i := firstDiff(p, data[lo:hi]); i >= 0 {
			return fmt.Errorf("read pieces: byte at %#x is %#02x, want %#02x", base+lo+int64(i), p[i], data[lo+int64(i)])
		}
	}
	return nil
}

func checkEndOfDevice(d *dut) error {
	last := d.g.Blocks() - 1
	if ok, err := d.allGood(last, 1); err != nil || !ok {
		if err != nil {
			return err
		}
		return notApplicable("the last erase block is bad")
	}
	data, err := d.prepare(last, 1)
	if err != nil {
		return err
	}
	for _, n := range []int64{1, 2, d.g.WriteSize, d.g.PageSize + 1, d.g.EraseSize} {
		n = min(n, d.g.EraseSize)
		if err := d.expect(d.g.Size-n, data[int64(len(data))-n:], fmt.Sprintf("last %d bytes", n)); err != nil {
			return err
		}
	}
	return nil
}

func checkNORAnd(d *dut) error {
	if d.g.Kind != hal.NOR {
		return notApplicable("NOR rule; this is " + d.g.Kind.String())
	}
	b, err := d.goodRun(d.g.Blocks()/2+1, 1)
	if err != nil {
		return err
	}
	// A range around the middle of the block, crossing a page boundary
	// where the block has more than one page.
	n := min(d.g.PageSize+7, d.g.EraseSize-2)
	if n < 6 {
		return notApplicable(fmt.Sprintf("erase size %d is too small for this check", d.g.EraseSize))
	}
	off := d.block(b) + (d.g.EraseSize-n)/2
	if err := d.erase(d.block(b), d.g.EraseSize); err != nil {
		return err
	}
	first, second := d.random(n), d.random(n)
	if err := d.program(first, off); err != nil {
		return err
	}
	if err := d.program(second, off); err != nil {
		return err
	}
	want := make([]byte, n)
	for i := range want {
		want[i] = first[i] & second[i]
	}
	if err := d.expect(off, want, "program over programmed data (want old AND new)"); err != nil {
		return err
	}
	// Programming 0xFF changes nothing; programming 0x00 clears.
	ff := make([]byte, n)
	for i := range ff {
		ff[i] = 0xFF
	}
	if err := d.program(ff, off); err != nil {
		return err
	}
	if err := d.expect(off, want, "program of 0xFF over data"); err != nil {
		return err
	}
	if err := d.program(make([]byte, 5), off+1); err != nil {
		return err
	}
	copy(want[1:6], make([]byte, 5))
	if err := d.expect(off, want, "program of zeros"); err != nil {
		return err
	}
	return d.expectErased(off+n, d.block(b+1)-off-n, "bytes after the programmed range")
}

func checkNANDOnce(d *dut) error {
	if d.g.Kind != hal.NAND {
		return notApplicable("NAND rule; this is " + d.g.Kind.String())
	}
	b, err := d.goodRun(d.g.Blocks()/2+1, 1)
	if err != nil {
		return err
	}
	off := d.block(b)
	if err := d.erase(off, d.g.EraseSize); err != nil {
		return err
	}
	first := d.random(d.g.WriteSize)
	if err := d.program(first, off); err != nil {
		return err
	}
	n, err := d.f.WriteAt(d.random(d.g.WriteSize), off)
	if err == nil {
		return fmt.Errorf("second WriteAt of page 0 of block %d succeeded, want an error", b)
	}
	var oe *hal.OpError
	if !errors.As(err, &oe) {
		return fmt.Errorf("second program: error %q (%T) is not an *hal.OpError", err, err)
	}
	if n != 0 {
		return fmt.Errorf("second program returned n=%d with its error, want 0", n)
	}
	return d.expect(off, first, "page after a refused second program")
}

func checkUnaligned(d *dut) error {
	b, err := d.goodRun(1, 1)
	if err != nil {
		return err
	}
	data, err := d.prepare(b, 1)
	if err != nil {
		return err
	}
	off, es, ws := d.block(b), d.g.EraseSize, d.g.WriteSize
	type op struct {
		call string
		do   func() error
		name string
	}
	ops := []op{
		{fmt.Sprintf("Erase(%#x, %#x)", off+es/2, es), func() error { return d.f.Erase(off+es/2, es) }, "erase"},
		{fmt.Sprintf("Erase(%#x, %#x)", off, es/2), func() error { return d.f.Erase(off, es/2) }, "erase"},
		{fmt.Sprintf("Erase(%#x, %#x)", off, es+es/2), func() error { return d.f.Erase(off, es+es/2) }, "erase"},
		{fmt.Sprintf("Erase(%#x, %#x)", off+1, es), func() error { return d.f.Erase(off+1, es) }, "erase"},
	}
	if ws > 1 {
		ops = append(ops,
			op{fmt.Sprintf("WriteAt(%d bytes, %#x)", ws, off+1), func() error { return wrote(d.f.WriteAt(make([]byte, ws), off+1)) }, "program"},
			op{fmt.Sprintf("WriteAt(%d bytes, %#x)", ws-1, off), func() error { return wrote(d.f.WriteAt(make([]byte, ws-1), off)) }, "program"},
			op{fmt.Sprintf("WriteAt(%d bytes, %#x)", ws+1, off), func() error { return wrote(d.f.WriteAt(make([]byte, ws+1), off)) }, "program"},
		)
	}
	for _, o := range ops {
		if err := rejected(o.do(), o.name, hal.ErrUnaligned, o.call); err != nil {
			return err
		}
	}
	return d.expect(off, data, "block after the rejected operations")
}

// wrote turns a rejected WriteAt's results into one error, insisting that
// nothing was reported written.
func wrote(n int, err error) error {
	if err != nil && n != 0 {
		return fmt.Errorf("rejected WriteAt returned n=%d, want 0: %w", n, err)
	}
	return err
}

func checkOutOfRange(d *dut) error {
	first, err := d.goodRun(0, 1)
	if err != nil {
		return err
	}
	last, err := d.goodRun(d.g.Blocks()-1, 1)
	if err != nil {
		return err
	}
	firstData, err := d.prepare(first, 1)
	if err != nil {
		return err
	}
	lastData, err := d.prepare(last, 1)
	if err != nil {
		return err
	}
	size, es, ws := d.g.Size, d.g.EraseSize, d.g.WriteSize
	read := func(n, off int64) func() error {
		return func() error { _, err := d.f.ReadAt(make([]byte, n), off); return err }
	}
	write := func(n, off int64) func() error {
		return func() error { return wrote(d.f.WriteAt(make([]byte, n), off)) }
	}
	erase := func(off, n int64) func() error { return func() error { return d.f.Erase(off, n) } }
	for _, o := range []struct {
		call, op string
		do       func() error
	}{
		{fmt.Sprintf("ReadAt(2 bytes, %#x)", size-1), "read", read(2, size-1)},
		{fmt.Sprintf("ReadAt(1 byte, %#x)", size), "read", read(1, size)},
		{"ReadAt(1 byte, -1)", "read", read(1, -1)},
		{"ReadAt(16 bytes, -8)", "read", read(16, -8)},
		{fmt.Sprintf("WriteAt(%d bytes, %#x)", ws, size), "program", write(ws, size)},
		{fmt.Sprintf("WriteAt(%d bytes, %#x)", 2*ws, size-ws), "program", write(2*ws, size-ws)},
		{fmt.Sprintf("WriteAt(%d bytes, %#x)", ws, -ws), "program", write(ws, -ws)},
		{fmt.Sprintf("Erase(%#x, %#x)", size, es), "erase", erase(size, es)},
		{fmt.Sprintf("Erase(%#x, %#x)", size-es, 2*es), "erase", erase(size-es, 2*es)},
		{fmt.Sprintf("Erase(%#x, %#x)", -es, es), "erase", erase(-es, es)},
		{fmt.Sprintf("Erase(%#x, %#x)", -es, 2*es), "erase", erase(-es, 2*es)},
	} {
		if err := rejected(o.do(), o.op, hal.ErrOutOfRange, o.call); err != nil {
			return err
		}
	}
	if err := d.expect(d.block(first), firstData, fmt.Sprintf("block %d after the rejected operations", first)); err != nil {
		return err
	}
	return d.expect(d.block(last), lastData, fmt.Sprintf("block %d after the rejected operations", last))
}

func checkEraseNeighbours(d *dut) error {
	spots, err := d.spots(3)
	if err != nil {
		return err
	}
	for _, b := range spots {
		data, err := d.prepare(b, 3)
		if err != nil {
			return err
		}
		es := d.g.EraseSize
		if err := d.erase(d.block(b+1), es); err != nil {
			return err
		}
		if err := d.expect(d.block(b), data[:es], fmt.Sprintf("block %d before the erased block", b)); err != nil {
			return err
		}
		if err := d.expectErased(d.block(b+1), es, fmt.Sprintf("erased block %d", b+1)); err != nil {
			return err
		}
		if err := d.expect(d.block(b+2), data[2*es:], fmt.Sprintf("block %d after the erased block", b+2)); err != nil {
			return err
		}
	}
	return nil
}

func checkTypedErrors(d *dut) error {
	all := []error{hal.ErrUnaligned, hal.ErrOutOfRange, hal.ErrBadBlock, hal.ErrWornOut, hal.ErrMedia,
		hal.ErrPowerLoss, hal.ErrTimeout, hal.ErrNAND, hal.ErrClosed}
	_, readErr := d.f.ReadAt(make([]byte, 4), d.g.Size-2)
	for _, c := range []struct {
		err  error
		op   string
		want error
	}{
		{d.f.Erase(d.g.EraseSize/2, d.g.EraseSize), "erase", hal.ErrUnaligned},
		{readErr, "read", hal.ErrOutOfRange},
		{wrote(d.f.WriteAt(make([]byte, d.g.WriteSize), d.g.Size)), "program", hal.ErrOutOfRange},
	} {
		if err := rejected(c.err, c.op, c.want, c.op); err != nil {
			return err
		}
		var oe *hal.OpError
		errors.As(c.err, &oe)
		if oe.Err == nil || oe.Unwrap() == nil {
			return fmt.Errorf("%s: OpError has no cause", c.op)
		}
		if oe.Error() == "" || oe.Error() == oe.Err.Error() {
			return fmt.Errorf("%s: OpError message %q does not name the operation", c.op, oe.Error())
		}
		for _, other := range all {
			if other != c.want && errors.Is(c.err, other) {
				return fmt.Errorf("%s: error %q wraps %q as well as %q", c.op, c.err, other, c.want)
			}
		}
		if wrapped := fmt.Errorf("caller: %w", c.err); !errors.Is(wrapped, c.want) {
			return fmt.Errorf("%s: errors.Is fails through one more %%w", c.op)
		}
	}
	return nil
}

func checkZeroLength(d *dut) error {
	b, err := d.goodRun(0, 1)
	if err != nil {
		return err
	}
	data, err := d.prepare(b, 1)
	if err != nil {
		return err
	}
	off := d.block(b)
	for _, at := range []int64{off, off + 1, d.g.Size} {
		if n, err := d.f.ReadAt(nil, at); n != 0 || err != nil {
			return fmt.Errorf("ReadAt(nil, %#x) = %d, %v; want 0, nil", at, n, err)
		}
	}
	if n, err := d.f.WriteAt([]byte{}, off); n != 0 || err != nil {
		return fmt.Errorf("WriteAt(empty, %#x) = %d, %v; want 0, nil", off, n, err)
	}
	if err := rejected(d.f.Erase(off, 0), "erase", hal.ErrUnaligned, fmt.Sprintf("Erase(%#x, 0)", off)); err != nil {
		return err
	}
	return d.expect(off, data, "block after zero-length operations")
}

func checkBadBlockQuery(d *dut) error {
	for _, b := range []int64{0, 1, d.g.Blocks() / 2, d.g.Blocks() - 1} {
		off := d.block(b)
		bad, err := hal.IsBad(d.f, off)
		if err != nil {
			return fmt.Errorf("IsBad(%#x): %w", off, err)
		}
		for _, inside := range []int64{off + 1, off + d.g.EraseSize - 1} {
			again, err := hal.IsBad(d.f, inside)
			if err != nil {
				return fmt.Errorf("IsBad(%#x): %w", inside, err)
			}
			if again != bad {
				return fmt.Errorf("IsBad(%#x) = %v but IsBad(%#x) = %v in the same block", off, bad, inside, again)
			}
		}
	}
	for _, off := range []int64{-1, d.g.Size, d.g.Size + d.g.EraseSize} {
		_, err := hal.IsBad(d.f, off)
		if err := rejected(err, "", hal.ErrOutOfRange, fmt.Sprintf("IsBad(%#x)", off)); err != nil {
			return err
		}
	}
	return nil
}

func checkBuffers(d *dut) error {
	b, err := d.goodRun(d.g.Blocks()/2-1, 1)
	if err != nil {
		return err
	}
	off := d.block(b)
	if err := d.erase(off, d.g.EraseSize); err != nil {
		return err
	}
	buf := d.random(d.g.EraseSize)
	want := slices.Clone(buf)
	if err := d.program(buf, off); err != nil {
		return err
	}
	for i := range buf {
		buf[i] = 0 // the caller reuses its buffer
	}
	if err := d.expect(off, want, "data after the caller reused its write buffer"); err != nil {
		return err
	}
	if !slices.Equal(buf, make([]byte, len(buf))) {
		return errors.New("WriteAt changed the caller's buffer")
	}
	// A read fills exactly the buffer it was given.
	unit := d.g.PageSize
	big := make([]byte, 3*unit)
	for i := range big {
		big[i] = 0x5A
	}
	n, err := d.f.ReadAt(big[unit:2*unit], off)
	if err != nil || int64(n) != unit {
		return fmt.Errorf("ReadAt(%d bytes, %#x) = %d, %v", unit, off, n, err)
	}
	for i, c := range big {
		inside := int64(i) >= unit && int64(i) < 2*unit
		if !inside && c != 0x5A {
			return fmt.Errorf("ReadAt wrote outside its buffer, at index %d", int64(i)-unit)
		}
		if inside && c != want[int64(i)-unit] {
			return fmt.Errorf("ReadAt into a sub-slice: byte %d wrong", int64(i)-unit)
		}
	}
	return nil
}

func checkStats(d *dut) error {
	if _, ok := d.f.(hal.Stater); !ok {
		return notApplicable("the device keeps no statistics (no hal.Stater)")
	}
	b, err := d.goodRun(d.g.Blocks()/2+2, 1)
	if err != nil {
		return err
	}
	off, es := d.block(b), d.g.EraseSize
	prev, _ := hal.StatsOf(d.f)
	step := func(what string, do func() error, grew func(delta hal.Stats) bool) error {
		if err := do(); err != nil {
			return err
		}
		now, _ := hal.StatsOf(d.f)
		delta := now.Sub(prev)
		if delta.Reads < 0 || delta.BytesRead < 0 || delta.Programs < 0 || delta.PagesProgrammed < 0 ||
			delta.BytesProgrammed < 0 || delta.Erases < 0 || delta.Elapsed < 0 {
			return fmt.Errorf("after %s a statistic went back: before %+v, after %+v", what, prev, now)
		}
		if !grew(delta) {
			return fmt.Errorf("after %s the statistics did not count it: change %+v", what, delta)
		}
		prev = now
		return nil
	}
	n := min(2*d.g.PageSize, es)
	if err := step("an erase of 1 block", func() error { return d.erase(off, es) },
		func(s hal.Stats) bool { return s.Erases >= 1 }); err != nil {
		return err
	}
	if err := step(fmt.Sprintf("a program of %d bytes", n), func() error { return d.program(d.random(n), off) },
		func(s hal.Stats) bool {
			return s.Programs >= 1 && s.BytesProgrammed >= n && s.PagesProgrammed >= n/d.g.PageSize
		}); err != nil {
		return err
	}
	return step(fmt.Sprintf("a read of %d bytes", n), func() error { _, err := d.read(off, n); return err },
		func(s hal.Stats) bool { return s.Reads >= 1 && s.BytesRead >= n })
}

func checkBadBlockMarking(d *dut) error {
	if _, ok := d.f.(hal.BadBlocker); !ok {
		return notApplicable("no bad-block management (no hal.BadBlocker)")
	}
	b, err := d.goodRun(d.g.Blocks()/2, 3)
	if err != nil {
		return err
	}
	target := b + 1
	err = hal.MarkBad(d.f, d.block(target)+1)
	if errors.Is(err, hal.ErrUnsupported) {
		return notApplicable("MarkBad is unsupported on this device")
	}
	if err != nil {
		return fmt.Errorf("MarkBad(block %d): %w", target, err)
	}
	for blk, want := range map[int64]bool{b: false, target: true, b + 2: false} {
		bad, err := hal.IsBad(d.f, d.block(blk))
		if err != nil {
			return fmt.Errorf("IsBad(block %d): %w", blk, err)
		}
		if bad != want {
			return fmt.Errorf("IsBad(block %d) = %v after marking block %d bad, want %v", blk, bad, target, want)
		}
	}
	if err := rejected(d.f.Erase(d.block(target), d.g.EraseSize), "erase", hal.ErrBadBlock,
		fmt.Sprintf("Erase of bad block %d", target)); err != nil {
		return err
	}
	if err := d.erase(d.block(b), d.g.EraseSize); err != nil {
		return fmt.Errorf("the good block before the bad one: %w", err)
	}
	return d.erase(d.block(b+2), d.g.EraseSize)
}

func checkClosed(d *dut) error {
	if _, ok := d.f.(io.Closer); !ok {
		return notApplicable("the device has no Close (no io.Closer)")
	}
	if err := hal.Close(d.f); err != nil {
		return fmt.Errorf("Close: %w", err)
	}
	_, rerr := d.f.ReadAt(make([]byte, 1), 0)
	_, werr := d.f.WriteAt(make([]byte, d.g.WriteSize), 0)
	for _, c := range []struct {
		call, op string
		err      error
	}{
		{"ReadAt after Close", "read", rerr},
		{"WriteAt after Close", "program", werr},
		{"Erase after Close", "erase", d.f.Erase(0, d.g.EraseSize)},
	} {
		if err := rejected(c.err, c.op, hal.ErrClosed, c.call); err != nil {
			return err
		}
	}
	return nil
}
