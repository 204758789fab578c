package bench

import (
	"fmt"
	"time"
)

// PhysicalCost is the physical floor of one or more rounds (PhysicalFloor).
type PhysicalCost struct {
	// Latency is what a round cannot avoid waiting for: ReadTime +
	// ProgramTime. Device adds the erases, which a writer can do ahead of
	// need, in idle time.
	Latency, Device                  time.Duration
	ReadTime, ProgramTime, EraseTime time.Duration
	BytesRead                        int64
	PagesProgrammed                  int64
	// Erases is the erase units' worth of erased space the programmed
	// pages consume: PagesProgrammed × PageSize / EraseSize, fractional.
	Erases float64
}

// PhysicalFloor is the least device time in which any writer could put
// changed bytes of new information on a backup priced by m, given change
// tracking on the primary (so it knows what changed without reading
// anything else):
//   - read the changed bytes: one command and their bus time (a lower
//     bound: scattered changes take a command per run);
//   - program them into erased space: ⌈changed / PageSize⌉ page programs,
//     each a command and tPP, and the changed bytes' bus time;
//   - erase that much space at the device's erase unit, amortised: each
//     page programmed costs PageSize/EraseSize of an erase command (a
//     fractional erase; a writer that fills whole erase units pays exactly
//     that in the long run).
//
// Latency leaves out the erases, which can be done in idle time; Device
// includes them. Zero changed bytes cost nothing.
func PhysicalFloor(changed int64, m Model) (PhysicalCost, error) {
	if err := m.Validate(); err != nil {
		return PhysicalCost{}, err
	}
	if changed < 0 {
		return PhysicalCost{}, fmt.Errorf("physical floor: %d changed bytes", changed)
	}
	if changed == 0 {
		return PhysicalCost{}, nil
	}
	pages := (changed + m.PageSize - 1) / m.PageSize
	c := PhysicalCost{
		ReadTime:        m.ReadTime(changed),
		ProgramTime:     time.Duration(pages)*(m.CommandOverhead+m.PageProgram) + m.BusTime(changed),
		EraseTime:       m.EraseCommand() * time.Duration(pages*m.PageSize) / time.Duration(m.EraseSize),
		BytesRead:       changed,
		PagesProgrammed: pages,
		Erases:          float64(pages*m.PageSize) / float64(m.EraseSize),
	}
	c.Latency = c.ReadTime + c.ProgramTime
	c.Device = c.Latency + c.EraseTime
	return c, nil
}

func (c PhysicalCost) add(o PhysicalCost) PhysicalCost {
	return PhysicalCost{
		Latency:         c.Latency + o.Latency,
		Device:          c.Device + o.Device,
		ReadTime:        c.ReadTime + o.ReadTime,
		ProgramTime:     c.ProgramTime + o.ProgramTime,
		EraseTime:       c.EraseTime + o.EraseTime,
		BytesRead:       c.BytesRead + o.BytesRead,
		PagesProgrammed: c.PagesProgrammed + o.PagesProgrammed,
		Erases:          c.Erases + o.Erases,
	}
}
