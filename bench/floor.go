package bench

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"github.com/cmcsync/cmcsync/hal"
)

// Model is what the floors need to know about a flash part under one erase
// model (sim.EraseModel) and timing corner (typical or maximum): the erase
// unit Linux's MTD layer erases in and what its commands cost.
type Model struct {
	EraseSize       int64         // erase unit: the 4 KiB sector (4k model) or 64 KiB block (64k)
	PageSize        int64         // program page (256 B)
	UnitErase       time.Duration // time of one erase unit, without the command
	PageProgram     time.Duration // time of one page program
	CommandOverhead time.Duration // opcode and address on the bus, per operation
	ReadBytesPerSec int64         // bus read rate
}

// Validate reports whether m can price work.
func (m Model) Validate() error {
	pow2 := func(v int64) bool { return v > 0 && v&(v-1) == 0 }
	switch {
	case !pow2(m.EraseSize) || !pow2(m.PageSize) || m.EraseSize%m.PageSize != 0:
		return fmt.Errorf("floor model: erase size %d and page size %d must be powers of two, erase a multiple of page", m.EraseSize, m.PageSize)
	case m.ReadBytesPerSec <= 0:
		return fmt.Errorf("floor model: read rate %d B/s must be positive", m.ReadBytesPerSec)
	case m.UnitErase < 0 || m.PageProgram < 0 || m.CommandOverhead < 0:
		return fmt.Errorf("floor model: negative operation time")
	}
	return nil
}

// ReadTime is the bus time of one read command of n bytes.
func (m Model) ReadTime(n int64) time.Duration {
	return m.CommandOverhead + m.BusTime(n)
}

// BusTime is the time n bytes take on the bus (read data, or program data
// going to the chip).
func (m Model) BusTime(n int64) time.Duration {
	return time.Duration(n * int64(time.Second) / m.ReadBytesPerSec)
}

// ProgramTime is the time of one page program command carrying n bytes.
func (m Model) ProgramTime(n int64) time.Duration {
	return m.CommandOverhead + m.PageProgram + m.BusTime(n)
}

// EraseCommand is the time of one erase command: one erase unit.
func (m Model) EraseCommand() time.Duration { return m.CommandOverhead + m.UnitErase }

// CommitRecord is the device time of one commit record: one full page
// program and its share (PageSize/EraseSize) of an erase unit. It is the
// allowance the targets give a store over the physical floor (Judge).
func (m Model) CommitRecord() time.Duration {
	return m.ProgramTime(m.PageSize) + m.EraseCommand()*time.Duration(m.PageSize)/time.Duration(m.EraseSize)
}

// Cost is an amount of flash work and the device time it takes.
type Cost struct {
	Time            time.Duration // ReadTime + ProgramTime + EraseTime
	ReadTime        time.Duration
	ProgramTime     time.Duration
	EraseTime       time.Duration
	Erases          int64 // erase units (EraseSize) erased, as hal.Stats counts them
	PagesProgrammed int64
	BytesProgrammed int64 // PagesProgrammed × PageSize: a page is the unit of work
	BytesRead       int64
}

// Range is the byte range [Off, Off+Len) of a region, counted from its start.
type Range struct{ Off, Len int64 }

// Info says which bytes of a region carry information. The zero Info
// treats the region as opaque bytes.
type Info struct {
	// Live are the bytes a sync must read to know the information: the
	// region header and every record (header and payload), not the unused
	// tails of extents. Empty: the whole region.
	Live []Range
	// Meta are record framing bytes (sequence number, length, checksums):
	// information about the information, which a store may keep in its own
	// format. A change to them costs programming the changed bytes once,
	// packed into pages of erased space (a journal append), instead of an
	// in-place rewrite of their sector.
	Meta []Range
}

// RewriteFloor is the rewrite floor of bringing a copy of a region from old
// to new on a part priced by m: the least time of a writer that rewrites
// whole erase units and reads the whole region (or its information, in.Live)
// to find what changed. It is not physical — a writer with change tracking
// reads and programs far less (PhysicalFloor) — but it is the floor of every
// erase-unit-granular copy, like the peers here.
//
// Definition. Each erase unit of the region (m.EraseSize: a 4 KiB sector
// under the 4k erase model, a 64 KiB block under 64k) on its own:
//   - unchanged unit: nothing;
//   - changed unit whose new bytes only clear bits of the old ones
//     (new AND old == new, e.g. an append into erased space): program, in
//     place, the pages whose bytes changed; no erase — but a unit that was
//     wholly erased and now receives data consumes erased space prepared
//     earlier, and is charged one erase unit (below), as every strategy is
//     charged for erased blocks it consumes;
//   - changed unit that needs some bit to go from 0 to 1: its new contents
//     must be programmed into erased space — every page of them that is not
//     all 0xFF — and that space must be erased.
//
// The erased space may be anywhere: in place, or (as a copy-on-write store
// does) elsewhere and erased ahead of need. Either way each unit that needs
// it costs one erase command of the unit (Model.EraseCommand): under the 4k
// model Linux erases nothing larger (sim.EraseModel), so no share of a
// 64 KiB block erase is credited. Finer mapping than an erase unit —
// relocating single pages — is not considered here.
//
// Every erase and page program pays the part's command overhead, and each
// page program carries over the bus the bytes from its first to its last
// byte that must be programmed (non-0xFF after an erase, changed without
// one): one command per page, the least data it can carry.
//
// Changed Meta bytes (in.Meta) are left out of that diff and cost instead
// one page program per PageSize of them. To all of it the floor adds
// reading in.Live (default: the whole region) once, one command per range,
// at the part's bus rate: without a change journal, knowing what changed
// takes reading it.
//
// old and new must have the same length, a multiple of m.EraseSize. Ranges
// must lie inside the region. The inputs are not modified.
func RewriteFloor(old, new []byte, m Model, in Info) (Cost, error) {
	if err := m.Validate(); err != nil {
		return Cost{}, err
	}
	n := int64(len(new))
	if int64(len(old)) != n || n%m.EraseSize != 0 {
		return Cost{}, fmt.Errorf("rewrite floor: region of %d/%d bytes is not whole %d-byte erase units", len(old), len(new), m.EraseSize)
	}
	for _, r := range append(slices.Clone(in.Live), in.Meta...) {
		if r.Off < 0 || r.Len < 0 || r.Off+r.Len > n {
			return Cost{}, fmt.Errorf("rewrite floor: range %d+%d outside the %d-byte region", r.Off, r.Len, n)
		}
	}
	total := Cost{BytesRead: n, ReadTime: m.ReadTime(n)}
	if len(in.Live) > 0 {
		total.BytesRead, total.ReadTime = 0, 0
		for _, r := range in.Live {
			total.BytesRead += r.Len
			total.ReadTime += m.ReadTime(r.Len)
		}
	}
	if len(in.Meta) > 0 {
		// Price the changed framing bytes as a packed append, and take
		// them out of the diff.
		var changed int64
		for _, r := range in.Meta {
			changed += ChangedBytes(old[r.Off:r.Off+r.Len], new[r.Off:r.Off+r.Len])
		}
		for left := changed; left > 0; left -= m.PageSize {
			total.PagesProgrammed++
			total.ProgramTime += m.ProgramTime(min(left, m.PageSize))
		}
		if changed > 0 {
			new = slices.Clone(new)
			for _, r := range in.Meta {
				copy(new[r.Off:r.Off+r.Len], old[r.Off:r.Off+r.Len])
			}
		}
	}
	var needErase int64 // erase units whose new contents need erased space
	for s := int64(0); s < n; s += m.EraseSize {
		o, nw := old[s:s+m.EraseSize], new[s:s+m.EraseSize]
		if bytes.Equal(o, nw) {
			continue
		}
		if hal.ProgramsOver(o, nw) {
			if hal.IsErased(o) {
				// Data into a sector erased earlier: it consumes that
				// erased space (see erasesFor).
				needErase++
			}
			for q := int64(0); q < m.EraseSize; q += m.PageSize {
				if lo, hi := diffSpan(o[q:q+m.PageSize], nw[q:q+m.PageSize]); hi > lo {
					total.PagesProgrammed++
					total.ProgramTime += m.ProgramTime(int64(hi - lo))
				}
			}
			continue
		}
		needErase++
		p, t := m.programAfterErase(nw)
		total.PagesProgrammed += p
		total.ProgramTime += t
	}
	e := m.erasesFor(needErase)
	total.Erases, total.EraseTime = e.Erases, e.EraseTime
	total.BytesProgrammed = total.PagesProgrammed * m.PageSize
	total.Time = total.ReadTime + total.ProgramTime + total.EraseTime
	return total, nil
}

// erasesFor returns the erase cost of k erase units' worth of erased
// space: k erase commands of the model's unit.
func (m Model) erasesFor(k int64) Cost {
	return Cost{Erases: k, EraseTime: time.Duration(k) * m.EraseCommand()}
}

// erasedChecks is the cost of reading k erase units back, one read
// command each, to check they are erased.
func (m Model) erasedChecks(k int64) Cost {
	return Cost{BytesRead: k * m.EraseSize, ReadTime: time.Duration(k) * m.ReadTime(m.EraseSize)}
}

func (c Cost) add(o Cost) Cost {
	return Cost{
		Time:            c.Time + o.Time,
		ReadTime:        c.ReadTime + o.ReadTime,
		ProgramTime:     c.ProgramTime + o.ProgramTime,
		EraseTime:       c.EraseTime + o.EraseTime,
		Erases:          c.Erases + o.Erases,
		PagesProgrammed: c.PagesProgrammed + o.PagesProgrammed,
		BytesProgrammed: c.BytesProgrammed + o.BytesProgrammed,
		BytesRead:       c.BytesRead + o.BytesRead,
	}
}

// programAfterErase prices programming erased space to hold p: one command
// per page that holds a byte other than 0xFF, carrying the span from its
// first to its last such byte.
func (m Model) programAfterErase(p []byte) (pages int64, t time.Duration) {
	for q := int64(0); q < int64(len(p)); q += m.PageSize {
		pg := p[q : q+m.PageSize]
		lo := slices.IndexFunc(pg, func(b byte) bool { return b != 0xFF })
		if lo < 0 {
			continue
		}
		hi := len(pg)
		for pg[hi-1] == 0xFF {
			hi--
		}
		pages++
		t += m.ProgramTime(int64(hi - lo))
	}
	return pages, t
}

// diffSpan returns the span [lo, hi) from the first to the last byte where
// a and b differ; lo == hi when they are equal.
func diffSpan(a, b []byte) (lo, hi int) {
	lo = 0
	for lo < len(a) && a[lo] == b[lo] {
		lo++
	}
	if lo == len(a) {
		return 0, 0
	}
	hi = len(a)
	for a[hi-1] == b[hi-1] {
		hi--
	}
	return lo, hi
}

// ChangedBytes counts the bytes that differ between old and new (same length).
func ChangedBytes(old, new []byte) int64 {
	var n int64
	const chunk = 4096
	for s := 0; s < len(new); s += chunk {
		e := min(s+chunk, len(new))
		if bytes.Equal(old[s:e], new[s:e]) {
			continue
		}
		for i := s; i < e; i++ {
			if old[i] != new[i] {
				n++
			}
		}
	}
	return n
}
