package faults_test

import (
	"errors"
	"fmt"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
)

// ram is a tiny NOR flash for the example.
type ram struct{ b []byte }

func (r *ram) Geometry() hal.Geometry {
	return hal.Geometry{Name: "flash1", Kind: hal.NOR, Size: int64(len(r.b)), EraseSize: 4096, WriteSize: 1, PageSize: 256}
}
func (r *ram) ReadAt(p []byte, off int64) (int, error) { return copy(p, r.b[off:]), nil }
func (r *ram) WriteAt(p []byte, off int64) (int, error) {
	for i := range p {
		r.b[off+int64(i)] &= p[i]
	}
	return len(p), nil
}
func (r *ram) Erase(off, n int64) error {
	for i := off; i < off+n; i++ {
		r.b[i] = 0xff
	}
	return nil
}

func Example() {
	s, err := faults.ParseSchedule("(on (and backup erase (at 1)) cut)")
	if err != nil {
		panic(err)
	}
	in := faults.NewInjector(s, faults.Options{})
	backup := in.Wrap(&ram{b: make([]byte, 8192)}, faults.Backup)

	fmt.Println(backup.Erase(0, 4096)) // operation #0
	err = backup.Erase(4096, 4096)     // #1: power cut
	fmt.Println(errors.Is(err, hal.ErrPowerLoss), err)
	_, err = backup.ReadAt(make([]byte, 1), 0) // #2: no power
	fmt.Println(errors.Is(err, hal.ErrPowerLoss))
	fmt.Println(s)
	// Output:
	// <nil>
	// true erase flash1 [0x1000+0x1000]: power lost: injected fault
	// true
	// (on (and backup erase (at 1)) cut)
}
