package sim

import (
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
)

// Poke stores p at off as raw bytes: no programming rules (bits may go from
// 0 to 1), no bad-block check, no time charged, no statistics counted, and
// unstable ranges are left as they are. It is how a fault harness leaves a
// torn program or a partly erased block, or scribbles over data. On NAND,
// every page Poke touches counts as programmed afterwards (a page whose
// cells were disturbed cannot be programmed again before an erase), so a
// torn program or erase must be followed by an erase before those pages
// are programmed. The range must lie inside the chip, else Poke panics (a
// harness bug). An image file is written through.
func (f *Flash) Poke(off int64, p []byte) {
	n := int64(len(p))
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mustRange("Poke", off, n)
	f.eachMutBlock(off, n, func(bl *block, in, k, done int64) {
		copy(f.mutData(bl)[in:in+k], p[done:done+k])
		if f.geo.Kind == hal.NAND {
			bl.next = max(bl.next, (in+k-1)>>f.pageShift+1)
		}
	})
	if f.file != nil && !f.closed {
		if err := f.file.writeRange(f, off, n); err != nil {
			f.file.fail(err)
		}
	}
}

// LoadBlock makes the erase block at off hold p (one erase block's
// bytes) as a chip that was erased and then programmed would: no
// programming rules, no bad-block check, no time, statistics or wear
// charged, unstable bytes made stable. On NAND the pages up to the last
// one that is not all 0xFF count as programmed and the ones after it as
// erased (programmable): how a harness puts a chip image taken from
// another world onto a simulated chip. off must be the start of an erase
// block inside the chip and p one erase block long, else LoadBlock panics
// (a harness bug). An image file is written through.
func (f *Flash) LoadBlock(off int64, p []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	es := f.geo.EraseSize
	if off&(es-1) != 0 || int64(len(p)) != es {
		panic(fmt.Sprintf("sim: LoadBlock of %d bytes at %#x on %s: want one %d-byte erase block", len(p), off, f.geo.Name, es))
	}
	f.mustRange("LoadBlock", off, es)
	f.eachMutBlock(off, es, func(bl *block, _, _, _ int64) {
		copy(f.mutData(bl), p)
		bl.unstable = nil
		if f.geo.Kind == hal.NAND {
			bl.next = 0
			for pg := int64(len(p)) - 1; pg >= 0; pg-- {
				if p[pg] != 0xFF {
					bl.next = pg>>f.pageShift + 1
					break
				}
			}
		}
	})
	if f.file != nil && !f.closed {
		if err := f.file.writeRange(f, off, es); err != nil {
			f.file.fail(err)
		}
	}
}

// SetUnstable makes the n bytes at off unstable: until the next erase or
// program of a byte, each read of it returns the stored value with the bits
// that are 0 replaced by random bits (a torn program or erase whose cells
// sit between states). The random values come from Options.Seed and are
// part of snapshots, so runs replay exactly. The range must lie inside the
// chip, else SetUnstable panics (a harness bug).
func (f *Flash) SetUnstable(off, n int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mustRange("SetUnstable", off, n)
	f.eachMutBlock(off, n, func(bl *block, in, k, _ int64) {
		bl.unstable = append(removeSpan(bl.unstable, in, in+k), span{in, in + k})
	})
}

// eachMutBlock calls fn, under f.mu, for each erase block the range
// [off, off+n) touches, in order, with the block made writable, the
// range's part of it as [in, in+k) and done the bytes of the range before
// it; each block is marked touched after fn.
func (f *Flash) eachMutBlock(off, n int64, fn func(bl *block, in, k, done int64)) {
	es := f.geo.EraseSize
	for done := int64(0); done < n; {
		pos := off + done
		in := pos & (es - 1)
		k := min(es-in, n-done)
		bl := f.mut(pos >> f.blkShift)
		fn(bl, in, k, done)
		f.touched(bl)
		done += k
	}
}

func (f *Flash) mustRange(what string, off, n int64) {
	if off < 0 || n < 0 || off > f.geo.Size || n > f.geo.Size-off {
		panic(fmt.Sprintf("sim: %s [%#x+%#x] outside %s (%#x bytes)", what, off, n, f.geo.Name, f.geo.Size))
	}
}

// ReadSettled fills p with the bytes at off as a read returns them when
// every unstable cell reads erased (1): the stored bytes, with each byte
// of an unstable range read as 0xFF. What is not 0xFF in p is a 0 bit
// every read returns. No time is charged and no statistics are counted
// (a harness's look at the cells, as Poke is its write). The range must
// lie inside the chip, else ReadSettled panics (a harness bug).
func (f *Flash) ReadSettled(p []byte, off int64) {
	n := int64(len(p))
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mustRange("ReadSettled", off, n)
	es := f.geo.EraseSize
	for done := int64(0); done < n; {
		pos := off + done
		in := pos & (es - 1)
		k := min(es-in, n-done)
		dst := p[done : done+k]
		bl := f.blk(pos >> f.blkShift)
		if bl.data == nil {
			fillFF(dst)
		} else {
			copy(dst, bl.data[in:in+k])
			for _, s := range bl.unstable {
				for i := max(s.lo, in); i < min(s.hi, in+k); i++ {
					dst[i-in] = 0xff
				}
			}
		}
		done += k
	}
}
