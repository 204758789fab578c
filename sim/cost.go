package sim

import "time"

// The time each operation costs, as Flash charges it (see Flash's doc) and
// Meter charges it for a device that is not simulated.

// readCost is the time of a read of n bytes at off: one command, the bus
// transfer, and on NAND each page's array read.
func (f *Flash) readCost(off, n int64) time.Duration {
	d := f.timing.CommandOverhead + f.busTime(n)
	if f.timing.PageRead != 0 {
		pages := (off+n-1)>>f.pageShift - off>>f.pageShift + 1
		d += f.arrayTime(opPageRead, pages)
	}
	return d
}

// programCost is the time of a program of n bytes at off: per program
// page touched a command and the page program, plus the bus transfer.
func (f *Flash) programCost(off, n int64) time.Duration {
	pages := (off+n-1)>>f.pageShift - off>>f.pageShift + 1
	return time.Duration(pages)*f.timing.CommandOverhead + f.arrayTime(opProgram, pages) + f.busTime(n)
}

// eraseCost is the time of erasing erase units first to last: one command
// per unit.
func (f *Flash) eraseCost(first, last int64) time.Duration {
	return time.Duration(last-first+1)*f.timing.CommandOverhead + f.arrayTime(opUnitErase, last-first+1)
}
