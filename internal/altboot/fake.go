package altboot

import "fmt"

// Write is one register write a Fake saw.
type Write struct {
	Off, Value uint32
}

// String formats the write as FMC0xx=value.
func (w Write) String() string { return fmt.Sprintf("FMC%03X=%#x", w.Off, w.Value) }

// Fake is a register file in memory that records every write, for tests.
// FailAt, if > 0, makes the FailAt-th write (1-based) fail.
type Fake struct {
	Values map[uint32]uint32
	Writes []Write
	FailAt int
	Closed bool
}

// Read32 returns the value last written at off (0 if none).
func (f *Fake) Read32(off uint32) (uint32, error) { return f.Values[off], nil }

// Write32 records the write and keeps the value.
func (f *Fake) Write32(off, v uint32) error {
	if f.FailAt > 0 && len(f.Writes)+1 == f.FailAt {
		return fmt.Errorf("fake register write %d fails", f.FailAt)
	}
	if f.Values == nil {
		f.Values = map[uint32]uint32{}
	}
	f.Writes = append(f.Writes, Write{off, v})
	f.Values[off] = v
	return nil
}

// Close marks the fake closed.
func (f *Fake) Close() error { f.Closed = true; return nil }
