package sim

import (
	"testing"
	"time"
)

// Host-speed benchmarks (go test -run '^$' -bench . ./sim/). Targets on a
// 2-core machine: reads >= 2 GB/s, programs >= 500 MB/s, snapshot of a
// 128 MiB chip with few dirty blocks <= 50 µs.

func benchChip(b *testing.B, part string) *Flash {
	b.Helper()
	f, err := New(Options{Part: mustPart(b, part)})
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// BenchmarkRead4K reads 4 KiB from programmed NOR blocks.
func BenchmarkRead4K(b *testing.B) {
	f := benchChip(b, "mx66l1g45g")
	data := fill(1<<20, 0x5A)
	if _, err := f.WriteAt(data, 0); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 4096)
	benchWalk(b, 4096, 1<<20, func(off int64) error {
		_, err := f.ReadAt(buf, off)
		return err
	})
}

// benchWalk runs op once per iteration at offsets step bytes apart,
// walking round a window of window bytes from 0 (a power of two); the
// throughput is in step bytes per op.
func benchWalk(b *testing.B, step, window int64, op func(off int64) error) {
	b.SetBytes(step)
	b.ReportAllocs()
	off := int64(0)
	for b.Loop() {
		if err := op(off); err != nil {
			b.Fatal(err)
		}
		off = (off + step) & (window - 1)
	}
}

// programAt returns an op for benchWalk that programs p.
func programAt(f *Flash, p []byte) func(int64) error {
	return func(off int64) error {
		_, err := f.WriteAt(p, off)
		return err
	}
}

// BenchmarkRead1M reads 1 MiB at a time.
func BenchmarkRead1M(b *testing.B) {
	f := benchChip(b, "mx66l1g45g")
	if _, err := f.WriteAt(fill(1<<20, 0x5A), 0); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	b.SetBytes(1 << 20)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.ReadAt(buf, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProgramPage programs one 256-byte NOR page at a time, walking a
// 1 MiB window (NOR allows reprogramming: the result is the AND).
func BenchmarkProgramPage(b *testing.B) {
	f := benchChip(b, "mx66l1g45g")
	benchWalk(b, 256, 1<<20, programAt(f, fill(256, 0xA5)))
}

// BenchmarkProgram64K programs 64 KiB per call.
func BenchmarkProgram64K(b *testing.B) {
	f := benchChip(b, "mx66l1g45g")
	benchWalk(b, 64<<10, 16<<20, programAt(f, fill(64<<10, 0xA5)))
}

// BenchmarkProgramNANDPage programs 2 KiB NAND pages in order, erasing each
// block when full.
func BenchmarkProgramNANDPage(b *testing.B) {
	f := benchChip(b, nandName)
	program := programAt(f, fill(page, 0xA5))
	benchWalk(b, page, 64<<20, func(off int64) error {
		if off%nblock == 0 {
			if err := f.Erase(off, nblock); err != nil {
				return err
			}
		}
		return program(off)
	})
}

// BenchmarkErase64K erases programmed 64 KiB NOR blocks (throughput in
// bytes erased).
func BenchmarkErase64K(b *testing.B) {
	f := benchChip(b, "mx66l1g45g")
	if _, err := f.WriteAt(fill(16<<20, 0), 0); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(64 << 10)
	b.ReportAllocs()
	off := int64(0)
	for b.Loop() {
		if err := f.Erase(off, 64<<10); err != nil {
			b.Fatal(err)
		}
		off = (off + 64<<10) % f.Geometry().Size
	}
}

// BenchmarkSnapshot128MiB: a snapshot of a 128 MiB MX66L1G45G with 4 blocks
// changed since the previous one. ns/op includes the 4 programs and the
// copy-on-write they cost (every snapshot is treated as kept, so nothing
// is recycled); ns/snapshot is the Snapshot call alone.
func BenchmarkSnapshot128MiB(b *testing.B) {
	f := programmed128MiB(b)
	p := fill(256, 0x01)
	b.ReportAllocs()
	i := int64(0)
	var inSnapshot time.Duration
	for b.Loop() {
		for k := range int64(4) {
			if _, err := f.WriteAt(p, ((i*4+k)%128)<<20); err != nil {
				b.Fatal(err)
			}
		}
		t0 := time.Now()
		f.Snapshot()
		inSnapshot += time.Since(t0)
		i++
	}
	b.ReportMetric(float64(inSnapshot.Nanoseconds())/float64(i), "ns/snapshot")
}

// programmed128MiB is a 128 MiB MX66L1G45G with 4 KiB programmed at each
// MiB.
func programmed128MiB(b *testing.B) *Flash {
	f := benchChip(b, "mx66l1g45g")
	for off := int64(0); off < 128<<20; off += 1 << 20 {
		if _, err := f.WriteAt(fill(4096, 0x11), off); err != nil {
			b.Fatal(err)
		}
	}
	return f
}

// BenchmarkSnapshotRestore is a fault campaign's inner loop on a 128 MiB
// chip: snapshot, one operation (a 256-byte program), restore.
func BenchmarkSnapshotRestore(b *testing.B) {
	f := programmed128MiB(b)
	p := fill(256, 0x01)
	b.ReportAllocs()
	i := int64(0)
	for b.Loop() {
		s := f.Snapshot()
		if _, err := f.WriteAt(p, (i%128)<<20); err != nil {
			b.Fatal(err)
		}
		f.Restore(s)
		i++
	}
}
